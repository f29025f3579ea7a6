"""`python -m heapviz demo`: headless pictures and a page, text without the renderer, and the
window under Xvfb."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from heapviz import demo, render, scenario

REPO = Path(__file__).resolve().parents[1]
needs_renderer = pytest.mark.skipif(not render.available(), reason="the SDL renderer is not built")


def headless_env() -> dict[str, str]:
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", PYTHONPATH=str(REPO))
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


def test_the_tour_is_a_valid_scenario_whose_errors_are_all_caught() -> None:
    sc, chapters, source = demo.build()
    assert scenario.parse(source, "demo.hv").steps == sc.steps
    h = scenario.make_heap(sc.options)
    runner = scenario.Runner(sc, h)
    results = runner.run()
    assert all(r.ok for r in results), [r.failure for r in results if not r.ok]
    caught = {r.step.expect for r in results if r.step.expect}
    assert caught == {"SegmentationFault", "BufferOverflow", "UninitializedRead", "Leak",
                      "UseAfterFree", "DoubleFree", "InvalidFree"}
    kinds = {e.kind for e in h.events}
    assert {"split", "coalesce", "grow", "free", "lost", "error"} <= kinds
    assert [c.title for c in chapters][:7] == [t for t, _, _ in demo.CHAPTERS][:7]
    h.checks = "off"
    runner.vars.clear()
    h.close()


@needs_renderer
def test_headless_demo_writes_pictures_and_a_page(tmp_path: Path) -> None:
    out = tmp_path / "tour"
    proc = subprocess.run([sys.executable, "-m", "heapviz", "demo", "--out", str(out),
                           "--width", "800"], cwd=tmp_path, env=headless_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    n = len(demo.CHAPTERS)
    pictures = sorted(out.glob("step*.png"))
    assert [p.name for p in pictures] == [f"step{i:02d}.png" for i in range(1, n + 1)]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pictures)
    # progress, one line per chapter, then the paths
    assert re.search(rf"^\[ 1/{n}\] A fresh heap", proc.stdout, re.M)
    assert f"HTML page: {out / 'index.html'}" in proc.stdout
    assert f"pictures: {out}/step01.png" in proc.stdout
    page = (out / "index.html").read_text()
    for p in pictures:
        assert f"src='{p.name}'" in page
    for word in ("Coalescing", "The heap grows", "Invalid write of size 1", "Invalid free()",
                 "definitely lost: 64 bytes", "demo.hv"):
        assert word in page
    # the scenario it wrote runs again, on its own
    again = subprocess.run([sys.executable, "-m", "heapviz", "run", str(out / "demo.hv"), "-q"],
                           env=headless_env(), capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr


def test_demo_without_the_renderer_is_text_with_a_notice(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['heapviz._viz'] = None\n"
            "from heapviz.__main__ import main\n"
            f"sys.exit(main(['demo', '--out', {str(tmp_path / 'tour')!r}]))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=headless_env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "pictures unavailable, showing the tour as text" in proc.stderr
    assert "apt-get install libsdl2-dev" in proc.stderr
    assert "free list:" in proc.stdout and "Invalid free()" in proc.stdout
    assert "definitely lost: 64 bytes" in proc.stdout
    assert not (tmp_path / "tour").exists()


def test_text_flag(capsys: pytest.CaptureFixture[str]) -> None:
    from heapviz.__main__ import main

    assert main(["demo", "--text"]) == 0
    out = capsys.readouterr().out
    assert "[15/15] The end" in out and "malloc(100) needs 100 bytes" in out


# --------------------------------------------------------------------------------------------
# The window, under a private Xvfb
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def window_display(display: str) -> str:
    """The shared Xvfb (conftest), when the renderer and xdotool are there too."""
    if not render.available() or not shutil.which("xdotool"):
        pytest.skip("needs the renderer, Xvfb and xdotool")
    return display


def close_windows(display: str, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    """Wait for the window to show the end, then press q in it."""
    env = dict(os.environ, DISPLAY=display)
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        wins = subprocess.run(["xdotool", "search", "--classname", "^heapviz$"], env=env,
                              capture_output=True, text=True).stdout.split()
        for w in wins:
            subprocess.run(["xdotool", "windowfocus", w], env=env, capture_output=True)
            subprocess.run(["xdotool", "key", "--window", w, "q"], env=env, capture_output=True)
        time.sleep(0.5)


@pytest.mark.display
@pytest.mark.parametrize("argv", [["demo", "--delay", "0"],
                                  ["run", str(REPO / "examples" / "basics.hv"), "--view",
                                   "--delay", "0"],
                                  ["run", str(REPO / "examples" / "own_heap.py"), "--view"]])
def test_window_when_there_is_a_display(window_display: str, tmp_path: Path,
                                        argv: list[str]) -> None:
    display = window_display
    env = dict(os.environ, DISPLAY=display, PYTHONPATH=str(REPO))
    env.pop("SDL_VIDEODRIVER", None)
    proc = subprocess.Popen([sys.executable, "-m", "heapviz", *argv], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(2)
        close_windows(display, proc)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "close it to finish" in err or "close the window" in err
    assert not list(tmp_path.glob("heapviz-demo/*.png"))  # the window, not pictures
