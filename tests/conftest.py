"""Fixtures shared by the test files: a private X display, and a heap.

* ``display`` — a private Xvfb (1280x800x24) on a free display number, for the tests that
  open the real SDL window (the module's tests share it); skipped without Xvfb.
* ``h`` — a fresh default ``heapviz.Heap``, closed after the test (its leak summary, if
  any, kept off the test's output).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import heapviz


def _free_display() -> int | None:
    """A display number no X server (nor another test run on this machine) holds."""
    start = 100 + os.getpid() % 400
    for i in range(400):
        n = 100 + (start - 100 + i) % 400
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    return None


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """A private Xvfb: its DISPLAY name (":N")."""
    if shutil.which("Xvfb") is None:
        pytest.skip("needs Xvfb (apt-get install xvfb)")
    n = _free_display()
    if n is None:
        pytest.skip("no free X display number")
    proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if Path(f"/tmp/.X11-unix/X{n}").exists():
            break
        time.sleep(0.05)
    else:
        proc.kill()
        proc.wait(5)
        pytest.skip("Xvfb did not start")
    yield f":{n}"
    proc.terminate()
    proc.wait(5)


@pytest.fixture
def h() -> Iterator[heapviz.Heap]:
    """A default heap, closed (quietly) after the test."""
    heap = heapviz.Heap()
    yield heap
    with contextlib.redirect_stderr(io.StringIO()):
        heap.close()
