"""The live viewer in a real X server (Xvfb): following, stepping, surviving, catching up.

Each test runs a student-like script in a subprocess with DISPLAY set to a private Xvfb,
takes screenshots of the window with ImageMagick's `import`, sends keys with xdotool, and
compares the window's heap area with the headless render of the same state.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("heapviz._viz", reason="renderer not built (SDL2, SDL2_ttf or libpng)")
pytest.importorskip("PIL", reason="Pillow missing")
import contextlib

from PIL import Image

import heapviz
from heapviz import _viz

pytestmark = pytest.mark.display
TOOLS = ("Xvfb", "xdotool", "import")
MISSING = [t for t in TOOLS if shutil.which(t) is None]
if MISSING:
    pytest.skip(
        f"needs {', '.join(MISSING)} (apt-get install xvfb xdotool imagemagick)",
        allow_module_level=True,
    )

W, H = 1000, 640
PKG_ROOT = str(Path(os.path.abspath(heapviz.__file__)).parent.parent)


class Script:
    """A script under test: its output lines arrive as it prints them."""

    def __init__(self, display: str, body: str, tmp: Path, stdin: bool = False) -> None:
        path = tmp / "lesson.py"
        path.write_text(textwrap.dedent(body))
        env = dict(os.environ, DISPLAY=display, PYTHONPATH=PKG_ROOT, PYTHONUNBUFFERED="1")
        env.pop("SDL_VIDEODRIVER", None)
        self.proc = subprocess.Popen(
            [sys.executable, str(path)],
            cwd=tmp,
            env=env,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.seen: list[str] = []
        self.display = display
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._lock:
                self.lines.append(line.strip())
                self.seen.append(line.strip())

    def expect(self, prefix: str, timeout: float = 15) -> str:
        """The next output line starting with prefix (earlier lines are kept)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                for line in self.lines:
                    if line.startswith(prefix):
                        self.lines.remove(line)
                        return line
            if not self._reader.is_alive() and self.proc.poll() is not None:
                time.sleep(0.05)
                if not any(line.startswith(prefix) for line in self.lines):
                    break
            time.sleep(0.02)
        err = self.proc.stderr.read() if self.proc.poll() is not None and self.proc.stderr else ""
        raise AssertionError(f"no {prefix!r} line; got {self.lines}; stderr: {err}")

    def send(self, line: str) -> None:
        """A line to the script's stdin (Script(..., stdin=True))."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        """The script and its viewer (which outlives the script by design)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)
        for pid in self.viewers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    @property
    def viewers(self) -> list[int]:
        return [int(line.split()[1]) for line in self.seen if line.startswith("viewer ")]


def window_id(display: str, s: Script, timeout: float = 10, by_pid: bool = True) -> str:
    """The visible window of the script's viewer (found by its _NET_WM_PID), or with
    by_pid=False the one heapviz window on the display (a viewer the script's own child
    started; its pid is then added to the script's viewers, to be killed with it)."""
    env = dict(os.environ, DISPLAY=display)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        cmd = ["xdotool", "search", "--onlyvisible", "--classname", "^heapviz$"]
        if by_pid:
            cmd[2:2] = ["--pid", str(s.viewers[-1]) if s.viewers else "0"]
        out = subprocess.run(cmd, capture_output=True, text=True, env=env).stdout.split()
        if out:
            if not by_pid:
                pid = subprocess.run(
                    ["xdotool", "getwindowpid", out[-1]], capture_output=True, text=True, env=env
                ).stdout.strip()
                if pid:
                    s.seen.append(f"viewer {pid}")
            return out[-1]
        time.sleep(0.1)
    raise AssertionError("no heapviz window")


def screenshot(display: str, wid: str) -> Image.Image:
    png = subprocess.run(
        ["import", "-window", wid, "png:-"],
        capture_output=True,
        check=True,
        env=dict(os.environ, DISPLAY=display),
    ).stdout
    return Image.open(io.BytesIO(png)).convert("RGB")


def key(display: str, wid: str, *keys: str) -> None:
    env = dict(os.environ, DISPLAY=display)
    # Keyboard focus to the window first: SDL ignores keys for a window it thinks is not
    # focused, and without a window manager nobody else gives it focus.
    subprocess.run(["xdotool", "windowfocus", wid], env=env, check=False, capture_output=True)
    # No window manager under Xvfb: send the key to the window itself (XSendEvent).
    subprocess.run(["xdotool", "key", "--window", wid, *keys], env=env, check=True)


def heap_area(img: Image.Image, clip: tuple[int, int]) -> Image.Image:
    """The heap rows and the stats panel: what must agree between window and picture."""
    return img.crop((0, clip[0], img.width, clip[1]))


def same_as_headless(display: str, wid: str, png: Path, timeout: float = 10) -> None:
    want = Image.open(png).convert("RGB")
    clip = (30, H - 34)  # all but the title and timeline bars (live/paused, op counts)
    end = time.monotonic() + timeout
    while True:
        got = screenshot(display, wid)
        if (
            got.size == want.size
            and heap_area(got, clip).tobytes() == heap_area(want, clip).tobytes()
        ):
            return
        if time.monotonic() > end:
            got.save(png.with_name("window.png"))
            raise AssertionError(f"window differs from {png} (see {png.with_name('window.png')})")
        time.sleep(0.2)


PRELUDE = f"""
import os, sys, time, signal
import heapviz
from heapviz import viewer
W, H = {W}, {H}
"""


def test_window_follows_a_live_script(display: str, tmp_path: Path) -> None:
    s = Script(
        display,
        PRELUDE
        + """
h = heapviz.Heap()
v = viewer.show(h, width=W, height=H)
print("viewer", v.process.pid, flush=True)
print("ready", v.ready.wait(10), flush=True)
blocks = [h.malloc(16 + 8 * i) for i in range(12)]
for b in blocks[::3]:
    h.free(b)
data = h.malloc(100)
time.sleep(0.6)   # the variables sampler runs every 0.2 s
h.render("headless.png", width=W, height=H, chrome=True)
print("rendered", flush=True)
time.sleep(30)
""",
        tmp_path,
    )
    try:
        assert s.expect("ready") == "ready True"
        s.expect("rendered")
        wid = window_id(display, s)
        same_as_headless(display, wid, tmp_path / "headless.png")
    finally:
        s.kill()


def test_step_mode_waits_for_the_key(display: str, tmp_path: Path) -> None:
    s = Script(
        display,
        PRELUDE
        + """
h = heapviz.Heap()
v = viewer.show(h, step=True, width=W, height=H)
print("viewer", v.process.pid, flush=True)
print("ready", v.ready.wait(10), flush=True)
for i in range(6):
    p = h.malloc(32)
    print("did", i, flush=True)
print("finished", flush=True)
time.sleep(30)
""",
        tmp_path,
    )
    try:
        s.expect("ready")
        wid = window_id(display, s)
        time.sleep(0.8)
        assert not any(line.startswith("did") for line in s.lines), "paused before the key"
        # One key, one operation.  The next key goes out as soon as the script printed, i.e.
        # usually while it is still running the operation the viewer just released and has
        # not said "waiting" again: the viewer keeps such a press for then (it used to drop
        # it: the test's "flaky first key" of old, which was a real lost key press).
        for i in range(3):
            key(display, wid, "n")
            assert s.expect("did", timeout=5) == f"did {i}", "one operation per key"
        # Three presses in one burst: three operations, no more.
        key(display, wid, "n", "n", "n")
        for i in range(3, 6):
            assert s.expect("did", timeout=5) == f"did {i}"
        s.expect("finished", timeout=5)
    finally:
        s.kill()


def test_step_mode_runs_no_more_than_the_keys(display: str, tmp_path: Path) -> None:
    s = Script(
        display,
        PRELUDE
        + """
h = heapviz.Heap()
v = viewer.show(h, step=True, width=W, height=H)
print("viewer", v.process.pid, flush=True)
print("ready", v.ready.wait(10), flush=True)
for i in range(5):
    p = h.malloc(32)
    print("did", i, flush=True)
time.sleep(30)
""",
        tmp_path,
    )
    try:
        s.expect("ready")
        wid = window_id(display, s)
        key(display, wid, "n", "n")
        assert s.expect("did", timeout=5) == "did 0"
        assert s.expect("did", timeout=5) == "did 1"
        time.sleep(1.0)
        assert not any(line.startswith("did") for line in s.lines), "two keys, two operations"
    finally:
        s.kill()


def test_viewer_survives_the_script_crashing(display: str, tmp_path: Path) -> None:
    s = Script(
        display,
        PRELUDE
        + """
h = heapviz.Heap()
v = viewer.show(h, width=W, height=H)
v.ready.wait(10)
print("viewer", v.process.pid, flush=True)
p = h.malloc(40)
h.render("headless.png", width=W, height=H, chrome=True, vars=False)
del p
time.sleep(0.5)
raise ZeroDivisionError("the student's bug")
""",
        tmp_path,
    )
    pid = int(s.expect("viewer").split()[1])
    try:
        s.proc.wait(15)
        assert s.proc.returncode != 0
        time.sleep(0.5)
        os.kill(pid, 0)  # still there
        wid = window_id(display, s)
        img = screenshot(display, wid)
        assert img.size == (W, H)
        # The notice is drawn in the title bar in the "just freed" orange.
        title = img.crop((0, 0, W, 28))
        assert (0xE6, 0x9F, 0x00) in {c for _, c in title.getcolors(W * 28) or []}
    finally:
        os.kill(pid, signal.SIGKILL)


def test_script_survives_the_viewer_dying(display: str, tmp_path: Path) -> None:
    s = Script(
        display,
        PRELUDE
        + """
h = heapviz.Heap()
v = viewer.show(h, step=True, width=W, height=H)
v.ready.wait(10)
print("viewer", v.process.pid, flush=True)
ps = [h.malloc(24) for i in range(5)]   # waits in step mode until the viewer dies
print("finished", len(ps), flush=True)
""",
        tmp_path,
    )
    try:
        pid = int(s.expect("viewer").split()[1])
        time.sleep(0.5)
        os.kill(pid, signal.SIGKILL)
        assert s.expect("finished", timeout=10) == "finished 5"
        s.proc.wait(10)
        assert s.proc.returncode == 0
    finally:
        s.kill()


def test_closing_the_window_never_breaks_the_script(display: str, tmp_path: Path) -> None:
    s = Script(
        display,
        PRELUDE
        + """
h = heapviz.Heap()
v = viewer.show(h, width=W, height=H)
v.ready.wait(10)
print("viewer", v.process.pid, flush=True)
print("ready", flush=True)
v.closed.wait(10)
ps = [h.malloc(24) for i in range(100)]
print("finished", len(ps), v.process.wait(5), flush=True)
""",
        tmp_path,
    )
    try:
        s.expect("ready")
        key(display, window_id(display, s), "q")
        assert s.expect("finished", timeout=10) == "finished 100 0"
    finally:
        s.kill()


def test_viewer_far_behind_the_ring_recovers(display: str, tmp_path: Path) -> None:
    s = Script(
        display,
        PRELUDE
        + """
h = heapviz.Heap(ring_capacity=1024, size=64 * 1024)
v = viewer.show(h, width=W, height=H)
v.ready.wait(10)
print("viewer", v.process.pid, flush=True)
os.kill(v.process.pid, signal.SIGSTOP)     # the viewer falls far behind
live = []
for i in range(20000):
    live.append(h.malloc(16 + (i * 37) % 200))
    if i % 3:
        h.free(live.pop(len(live) // 2))
os.kill(v.process.pid, signal.SIGCONT)
print("ops", len(h.events), flush=True)
keep = live[:3]
del live
h.render("headless.png", width=W, height=H, chrome=True)
print("rendered", flush=True)
time.sleep(30)
""",
        tmp_path,
    )
    try:
        n = int(s.expect("ops", timeout=60).split()[1])
        assert n > 20 * 1024, "far more events than the ring holds"
        s.expect("rendered", timeout=30)
        same_as_headless(display, window_id(display, s), tmp_path / "headless.png", timeout=20)
    finally:
        s.kill()


def test_view_command_writes_the_final_picture(tmp_path: Path) -> None:
    trace = tmp_path / "short.rep"
    trace.write_text("0\n3\n5\n1\na 0 24\na 1 100\nf 0\na 2 8\nr 1 300\n")
    out = tmp_path / "trace.png"
    r = subprocess.run(
        [sys.executable, "-m", "heapviz", "view", str(trace), "--png", str(out)],
        env=dict(os.environ, PYTHONPATH=PKG_ROOT),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert Image.open(out).size[0] == 1280
    assert _viz.render is not None


SCENARIO = """\
heap policy=first size=4K
p = malloc 100
q = malloc 40
r = malloc 8
free q
big = malloc 6000
"""


def test_view_command_opens_a_scenario(display: str, tmp_path: Path) -> None:
    """`python -m heapviz view lesson.hv`: the window shows the heap the scenario leaves,
    with its variables, as the headless picture of the same heap does."""
    (tmp_path / "lesson.hv").write_text(SCENARIO)
    s = Script(
        display,
        PRELUDE
        + f"""
import subprocess
p = subprocess.Popen([sys.executable, "-m", "heapviz", "view", "lesson.hv",
                      "--width", "{W}", "--height", "{H}"])
print("started", flush=True)
print("view exited", p.wait(), flush=True)
""",
        tmp_path,
    )
    try:
        s.expect("started")
        wid = window_id(display, s, by_pid=False)
        from heapviz import render
        from heapviz.cli import view

        h, names = view.load(str(tmp_path / "lesson.hv"))
        assert set(names) == {"p", "q", "r", "big"}
        render.render_png(
            h, tmp_path / "headless.png", width=W, height=H, chrome=True, vars=names
        )
        same_as_headless(display, wid, tmp_path / "headless.png")
        key(display, wid, "q")
        assert s.expect("view exited", timeout=10) == "view exited 0"
    finally:
        s.kill()


def test_ostep_view_steps_with_the_keys(display: str, tmp_path: Path) -> None:
    """`python -m heapviz ostep … --view`: one picture per step; n forward, b back."""
    s = Script(
        display,
        PRELUDE
        + f"""
from heapviz import ostep, viewer
real = viewer.play_ostep
viewer.play_ostep = lambda steps, states: real(steps, states, width={W}, height={H})
print("started", flush=True)
print("ostep exited", ostep.run_cli(["-n", "5", "-c", "-s", "2", "--view"]), flush=True)
""",
        tmp_path,
    )
    try:
        s.expect("started")
        wid = window_id(display, s, by_pid=False)
        from heapviz import ostep, render

        opts = ostep.Options(num_ops=5, seed=2, compute=True)
        states = ostep.picture_states(ostep.steps(opts), opts)
        zoom = max(1.0, min(8.0, 400 / opts.heap_size))

        def picture(i: int) -> Path:
            path = tmp_path / f"step{i}.png"
            st = states[i]
            render.render_png(st, path, width=W, height=H, chrome=True, vars=st["vars"],
                              zoom=zoom)  # fmt: skip
            return path

        same_as_headless(display, wid, picture(0))
        key(display, wid, "n", "n", "n")
        same_as_headless(display, wid, picture(3))
        key(display, wid, "b")
        same_as_headless(display, wid, picture(2))
        key(display, wid, "q")
        assert s.expect("ostep exited", timeout=10) == "ostep exited 0"
    finally:
        s.kill()


def test_time_travel_through_a_million_events(display: str, tmp_path: Path) -> None:
    """A script with ~1,000,000 events of history: the window catches up with all of it,
    then steps back (the first trip, in pieces a frame) and scrubs with the mouse (from a
    checkpoint), each time showing what a fresh headless replay of that moment draws."""
    s = Script(
        display,
        PRELUDE
        + """
import random
from heapviz import _viz
h = heapviz.Heap(checks="off")
v = viewer.show(h, width=W, height=H)
print("viewer", v.process.pid, flush=True)
v.ready.wait(10)
rnd, live = random.Random(7), []
while len(h.events) < 996_000:
    for _ in range(1000):
        if live and rnd.random() < 0.5:
            h.free(live.pop(rnd.randrange(len(live))))
        else:
            live.append(h.malloc(rnd.randint(8, 200)))
ops = _viz.Replay(h._capsule()).ops
h.render("live.png", width=W, height=H, chrome=True, vars=False)
print("ops", ops, flush=True)
for line in sys.stdin:   # "AT n": the picture of op n
    n = int(line.split()[1])
    h.render(f"at{n}.png", width=W, height=H, chrome=True, at=n)
    print("rendered", n, flush=True)
""",
        tmp_path,
        stdin=True,
    )
    try:
        ops = int(s.expect("ops", timeout=60).split()[1])
        wid = window_id(display, s)
        # No variables in this picture: the window shows none either.
        same_as_headless(display, wid, tmp_path / "live.png", timeout=30)
        # One step back: the whole history re-run once (in pieces), checkpoints made.
        s.send(f"AT {ops - 1}")
        s.expect("rendered", timeout=30)
        t = time.monotonic()
        key(display, wid, "Left")
        same_as_headless(display, wid, tmp_path / f"at{ops - 1}.png", timeout=30)
        first = time.monotonic() - t
        # A click on the timeline: an arbitrary moment, from the nearest checkpoint.
        x = 10 + (W - 20) * 3 // 7
        f = (x - 10) / (W - 20)
        op = int(f * ops + 0.5)
        s.send(f"AT {op}")
        s.expect("rendered", timeout=30)
        env = dict(os.environ, DISPLAY=display)
        subprocess.run(
            ["xdotool", "mousemove", "--window", wid, str(x), str(H - 17), "click", "1"],
            env=env,
            check=True,
        )
        t = time.monotonic()
        same_as_headless(display, wid, tmp_path / f"at{op}.png", timeout=10)
        print(f"\nwindow: first step back {first:.2f} s, scrub {time.monotonic() - t:.2f} s")
    finally:
        s.kill()
