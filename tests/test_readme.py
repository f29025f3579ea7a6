"""README.md's quick start is executed as it is written, and its screenshots exist and are
small pictures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


def run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={"PYTHONPATH": str(ROOT),
                                                       "PATH": "/usr/bin:/bin"})


def test_readme_has_python_quick_start() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_quick_start_block_runs(index: int, tmp_path: Path) -> None:
    if index > 0 and "watch" in BLOCKS[index]:
        pytest.importorskip("ipywidgets")
    r = run(BLOCKS[index], tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    if index == 0:
        assert "0x10010 hello" in r.stdout
        assert "Invalid write of size 4" in r.stdout
        assert "0 bytes after a block of size 40" in r.stdout
    if "snap.save(" in BLOCKS[index]:
        page = (tmp_path / "heap.html").read_text(encoding="utf-8")
        assert "heapviz-view" in page and 'type="range"' in page


def test_screenshots_are_there_and_small() -> None:
    shots = re.findall(r"!\[[^\]]*\]\((docs/screenshots/[^)]+\.png)\)", README)
    assert {Path(s).name for s in shots} >= {"window.png", "notebook.png"}
    for s in shots:
        path = ROOT / s
        assert path.stat().st_size < 200_000, f"{s} should stay small"
        with Image.open(path) as img:
            img.load()
            assert 600 <= img.width <= 1400 and img.height >= 300
