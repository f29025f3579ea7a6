"""The documentation's examples run: every doctest in the package's docstrings, and every
Python block of docs/*.md (README.md's are tests/test_readme.py's), so they cannot rot.

A docs block whose first line reads `# NAME.py — python -m heapviz …` is a script for that
command: it is written to NAME.py and the command is run on it."""

from __future__ import annotations

import doctest
import importlib
import os
import pkgutil
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import heapviz

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
BLOCKS = [(p, i, b) for p in DOCS
          for i, b in enumerate(re.findall(r"```python\n(.*?)```", p.read_text(), re.S))]
MODULES = ["heapviz", *sorted(m.name for m in pkgutil.walk_packages(heapviz.__path__,
                                                                    "heapviz."))]
SCRIPT = re.compile(r"# (\w+\.py) — (python -m heapviz .*)$")


def env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT), SDL_VIDEODRIVER="dummy")


# The C extensions have no doctests; heapviz.native's libheapviz_*.so are the C runtime's
# shared libraries (LD_PRELOAD'd into programs), not Python modules, though pkgutil lists them.
@pytest.mark.parametrize("name", [m for m in MODULES
                                  if not m.endswith(("_core", "_viz"))
                                  and not m.startswith("heapviz.native.lib")])
def test_docstring_examples(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = importlib.import_module(name)
    monkeypatch.chdir(tmp_path)  # examples may write pictures
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"


def test_the_docs_have_examples() -> None:
    assert len(BLOCKS) >= 3
    assert sum(1 for m in MODULES if "heapviz." in m) >= 30


@pytest.mark.parametrize("path,index,block", BLOCKS,
                         ids=[f"{p.name}-{i}" for p, i, _ in BLOCKS])
def test_docs_block_runs(path: Path, index: int, block: str, tmp_path: Path) -> None:
    first = block.splitlines()[0]
    m = SCRIPT.match(first)
    if m:
        (tmp_path / m.group(1)).write_text(block)
        argv = shlex.split(m.group(2))[1:]  # after "python"
        r = subprocess.run([sys.executable, *argv], cwd=tmp_path, env=env(),
                           capture_output=True, text=True, timeout=120)
    else:
        r = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, env=env(),
                           capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"{path.name} block {index}:\n{r.stderr[-3000:]}"
