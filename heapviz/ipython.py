"""IPython glue: the running shell, the notebook's variables, cell names.

Everything here works without IPython (a plain script gets None, the caller's variables and
file names) and never imports IPython into a process that did not.

    >>> shell() is None   # not in a notebook
    True
    >>> from heapviz.records import Site
    >>> site_text(Site("/tmp/lesson.py", 12))
    'lesson.py:12'
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from typing import Any

from heapviz import render
from heapviz._core import Pointer

MAX_VARS = 32  # variables drawn at most (the renderer's HV_VIZ_MAX_VARS)


def shell() -> Any:
    """The running IPython shell, or None (without importing IPython into a plain script)."""
    if "IPython" not in sys.modules:
        return None
    try:
        from IPython import get_ipython  # only when IPython is already loaded
    except ImportError:
        return None
    return get_ipython()


def user_vars(h: Any) -> dict[str, int]:
    """The names bound to Pointers into `h`: the notebook's namespace under IPython, else the
    caller's frame (as heapviz.render does for scripts)."""
    sh = shell()
    if sh is None:
        return render.pointer_vars(h)
    out: dict[str, int] = {}
    for name, value in list(sh.user_ns.items()):
        if len(out) >= MAX_VARS:
            break
        if name.startswith("_") or not isinstance(value, Pointer):
            continue
        if getattr(value, "heap", None) is h and int(value) != 0:
            out[name] = int(value)
    return out


_CELL_FILE = re.compile(r"ipykernel_\d+[/\\]\d+\.py$|<ipython-input-(\d+)-")


def site_text(site: Any) -> str:
    """A site as a student reads it: `In [3] line 2` for a notebook cell, else `file.py:12`."""
    if site is None:
        return "?"
    file, line = str(site.file), int(site.line)
    m = _CELL_FILE.search(file)
    if m:
        if m.group(1):
            return f"In [{m.group(1)}] line {line}"
        sh = shell()
        number = None
        if sh is not None:
            with contextlib.suppress(Exception):
                number = sh.compile._filename_map.get(file)
        return f"In [{number}] line {line}" if number is not None else f"cell line {line}"
    return f"{os.path.basename(file)}:{line}"
