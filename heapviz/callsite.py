"""Calls made as if from a given line of the student's file.

The binding tags every operation with the first frame outside the heapviz package (its
file, line and function: the site).  Code that runs operations for someone else — a scenario
step, a recording's replay — runs each one through a code object compiled for that file and
line, so the operation's site is the scenario's line or the recording's own.

    >>> code = site_code("lesson.hv", 12)
    >>> call_at(code, lambda: 42)
    42
"""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Callable
from types import CodeType
from typing import Any


def site_code(path: str, line: int, func: str = "<module>") -> CodeType:
    """A code object that calls `__step__()` as if from `path:line` in `func`."""
    tree = ast.parse("__step__()")
    ast.increment_lineno(tree, max(1, line) - 1)
    code = compile(tree, path, "exec")
    with contextlib.suppress(ValueError, TypeError):
        code = code.replace(co_name=func, co_qualname=func)
    return code


def call_at(code: CodeType, fn: Callable[[], Any]) -> Any:
    """fn(), called from the line `code` stands for; its result."""
    box: list[Any] = []
    exec(code, {"__step__": lambda: box.append(fn()), "__builtins__": {}})
    return box[0] if box else None
