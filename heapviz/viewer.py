"""The live viewer window: a separate process that draws a heap as the script runs.

``h.show()`` starts the window in a separate process (DESIGN decision 6) and returns at once:

- the viewer maps the arena read-only (the memfd, passed with ``pass_fds``) and follows the
  shared event ring; the script is never slowed down by it;
- a socket pair carries the few things the arena does not hold: the script's variables, the
  events the viewer missed, step-mode handshakes, and the script's end ("X");
- step mode (``h.show(step=True)``, or the ``s`` key): after each operation the script waits
  until the viewer says "next" (``n``); the binding calls a hook set with ``_set_step_hook``;
- closing the window never breaks the script (the hook is removed, waits are released), and a
  script that ends or crashes leaves the window showing its final state with a notice.

``play_ostep(steps, states)`` plays a run of OSTEP's malloc.py (``python -m heapviz ostep
--view``) in the same window: one picture per step, stepped with the keys.  (``python -m
heapviz view FILE`` is heapviz.cli.view.)
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import select
import socket
import struct
import subprocess
import sys
import threading
import traceback
from typing import Any

from heapviz import render

_HDR = struct.Struct("<IB")


class Viewer:
    """The script's end of one viewer window."""

    def __init__(
        self,
        heap: Any,
        step: bool = False,
        width: int = 1280,
        height: int = 800,
        vars: dict[str, int] | None = None,
    ):
        self._viz = render.viz()  # a clear error now, not in the child, if it is not built
        fd = heap.fd
        if fd < 0:
            raise RuntimeError(
                "heapviz: this heap has no memfd (anonymous mapping), so no viewer can map it"
            )
        self.heap = heap
        self._capsule = heap._capsule()
        self._sock, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._send_lock = threading.Lock()
        self._ack = threading.Semaphore(0)
        self.ready = threading.Event()
        self.closed = threading.Event()
        self._step = False
        self.history_requests = 0  # times the viewer fell behind the ring (benchmarks)
        self._last_vars: dict[str, int] = {}
        # Variables given by the caller (a scenario's) replace the sampled ones.
        self._pinned = dict(vars) if vars is not None else None
        args = [sys.executable, "-m", "heapviz.viewer", "--child", str(fd), str(child.fileno())]
        args += ["--width", str(width), "--height", str(height)] + (["--step"] if step else [])
        # A session of its own: Ctrl-C in the script's terminal must not close the window.
        # WM_CLASS "heapviz" lets window managers (and xdotool) find the window.
        env = dict(os.environ, SDL_VIDEO_X11_WMCLASS="heapviz")
        self.process = subprocess.Popen(
            args,
            env=env,
            pass_fds=(fd, child.fileno()),
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        child.close()
        if step:
            self.set_step(True)
        self._thread = threading.Thread(target=self._serve, name="heapviz-viewer", daemon=True)
        self._thread.start()
        _LIVE.append(self)

    # --- messages ---------------------------------------------------------------------------
    def _send(self, kind: bytes, payload: bytes = b"") -> bool:
        if self.closed.is_set():
            return False
        try:
            with self._send_lock:
                self._sock.sendall(_HDR.pack(len(payload) + 1, kind[0]) + payload)
            return True
        except OSError:
            self._gone()
            return False

    def _recv_exact(self, n: int) -> bytes | None:
        buf = b""
        while len(buf) < n:
            try:
                chunk = self._sock.recv(n - len(buf))
            except OSError:
                return None
            if not chunk:
                return None
            buf += chunk
        return buf

    def _serve(self) -> None:
        """The viewer's requests, on a daemon thread (holds the GIL only briefly).

        The socket stays blocking (a large history reply must not time out); select()
        gives the 0.2 s tick that samples the script's variables."""
        while not self.closed.is_set():
            try:
                readable, _, _ = select.select([self._sock], [], [], 0.2)
            except (OSError, ValueError):
                break
            if not readable:
                self._sample_vars()
                continue
            raw = self._recv_exact(_HDR.size)
            if raw is None:
                break
            n, kind = _HDR.unpack(raw)
            payload = self._recv_exact(n - 1) if n > 1 else b""
            if payload is None:
                break
            self._handle(chr(kind), payload)
        self._gone()

    def _handle(self, kind: str, payload: bytes) -> None:
        if kind == "R":
            self.ready.set()
            self._sample_vars(force=True)
        elif kind == "A":
            self._ack.release()
        elif kind == "S":
            self.set_step(payload == b"1")
        elif kind == "H":
            self.history_requests += 1
            first, count = struct.unpack("<QQ", payload[:16])
            data = b""  # the heap is closed: nothing more to give
            if not self.heap.closed:  # its capsule must not be read once it is
                with contextlib.suppress(ValueError, RuntimeError):
                    data = self._viz.history_bytes(self._capsule, first, count)
            self._send(b"E", struct.pack("<Q", first) + data)
        elif kind == "Q":
            self._gone()

    def _gone(self) -> None:
        """The window closed (or died): the script goes on as if there were none."""
        if self.closed.is_set():
            return
        self.closed.set()
        self.set_step(False)
        self._ack.release()
        self.ready.set()

    # --- variables --------------------------------------------------------------------------
    def _main_frame(self) -> Any:
        frame = sys._current_frames().get(threading.main_thread().ident or 0)
        while frame is not None and os.path.dirname(frame.f_code.co_filename) == (
            render._PACKAGE_DIR
        ):
            frame = frame.f_back
        return frame

    def _sample_vars(self, force: bool = False) -> None:
        if self._pinned is not None:
            found = self._pinned
        else:
            try:
                found = render.pointer_vars(self.heap, self._main_frame())
            except Exception:  # the frame changes under us; try again next time
                return
        if found != self._last_vars or force:
            self._last_vars = found
            text = "".join(f"{k}\t{v:x}\n" for k, v in found.items())
            self._send(b"V", text.encode())

    # --- step mode --------------------------------------------------------------------------
    def set_step(self, on: bool) -> None:
        """Pause the script after every operation until the viewer says "next"."""
        on = on and not self.closed.is_set()
        if on == self._step:
            return
        self._step = on
        with contextlib.suppress(ValueError):  # a closed heap has no hook to set
            self.heap._set_step_hook(self._after_op if on else None)

    def _after_op(self) -> None:
        frame = sys._getframe(1)
        while frame is not None and os.path.dirname(frame.f_code.co_filename) == (
            render._PACKAGE_DIR
        ):
            frame = frame.f_back
        found = self._pinned if self._pinned is not None else render.pointer_vars(self.heap, frame)
        if found != self._last_vars:
            self._last_vars = found
            self._send(b"V", "".join(f"{k}\t{v:x}\n" for k, v in found.items()).encode())
        if self._send(b"W", struct.pack("<Q", 0)):
            self._ack.acquire()

    # --- the end ----------------------------------------------------------------------------
    def script_ended(self, text: str = "script ended") -> None:
        """Tell the window the script is over (it keeps showing the final state)."""
        self._send(b"X", text.encode()[:150])

    def close(self) -> None:
        """Close the window (the script does not need to)."""
        self._gone()
        if self.process.poll() is None:
            self.process.terminate()
        self._sock.close()

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait until the window is closed; its exit status."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None


_LIVE: list[Viewer] = []
_crash: list[str] = []


def _excepthook(tp: type[BaseException], value: BaseException, tb: Any) -> None:
    _crash.append(f"script crashed: {tp.__name__}: {value}"[:150])
    _prev_hook(tp, value, tb)


_prev_hook = sys.excepthook


@atexit.register
def _at_exit() -> None:
    for v in _LIVE:
        v.script_ended(_crash[-1] if _crash else "script ended")


def show(
    h: Any,
    step: bool = False,
    *,
    width: int = 1280,
    height: int = 800,
    vars: dict[str, int] | None = None,
) -> Viewer:
    """Open the live window on `h` and return at once (see the module docstring).

    `vars` (name -> address) are drawn as the variables instead of the caller's Pointers."""
    if sys.excepthook is _prev_hook:
        sys.excepthook = _excepthook
    return Viewer(h, step=step, width=width, height=height, vars=vars)


class Window:
    """The live window, as a method (a mixin of heapviz.Heap)."""

    def show(self, step: bool = False, **opts: Any) -> Viewer:
        """Open the live SDL2 window; it follows every later operation.  With step=True
        the script pauses after each operation until you press a key in the window."""
        return show(self, step=step, **opts)


class NoDisplay(RuntimeError):
    """No window can open here (no display, or SDL kept offscreen)."""


def display_available() -> bool:
    """Whether a window can open: a display, and SDL not told to stay offscreen."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    return os.environ.get("SDL_VIDEODRIVER", "") not in ("dummy", "offscreen")


# --- OSTEP malloc.py runs: a list of pictures --------------------------------------------------
def _tuples(state: dict[str, Any]) -> dict[str, Any]:
    """JSON turned the (addr, len) and (name, lo, hi) pairs into lists: back to tuples."""
    for key in ("uninit", "frames"):
        if key in state:
            state[key] = [tuple(x) for x in state[key]]
    return state


def play_ostep(
    steps: list[Any],
    states: list[dict[str, Any]],
    *,
    width: int = 1280,
    height: int = 800,
    zoom: float | None = None,
) -> int:
    """Play an OSTEP malloc.py run in the window: one picture per step (`states`, from
    heapviz.ostep.picture_states), the first shown, n/→ the next, b/← the one before,
    space plays them one a second, Home/End, ? for the keys.  Returns when the window is
    closed (its exit status).  `zoom` defaults to drawing a small heap wide, as --png does."""
    render.viz()  # a clear error now if the renderer is not built
    if not states:
        return 0
    if len(states) != len(steps):
        raise ValueError(f"play_ostep: {len(steps)} steps but {len(states)} states")
    if not display_available():
        raise NoDisplay(
            "--view needs a display (DISPLAY is not set, or SDL_VIDEODRIVER keeps SDL "
            "offscreen): write pictures with --png DIR instead"
        )
    args = [sys.executable, "-m", "heapviz.viewer", "--child", "-1", "-1", "--states", "-"]
    if zoom is None:
        size = int(states[0].get("max_size") or states[0].get("stats", {}).get("heap_size") or 1)
        zoom = max(1.0, min(8.0, 400 / max(size, 1)))
    args += ["--width", str(width), "--height", str(height), "--zoom", str(zoom)]
    env = dict(os.environ, SDL_VIDEO_X11_WMCLASS="heapviz")
    proc = subprocess.Popen(args, env=env, stdin=subprocess.PIPE, start_new_session=True)
    try:
        assert proc.stdin is not None
        with proc.stdin:
            proc.stdin.write(json.dumps(states).encode())
        return proc.wait()
    except (KeyboardInterrupt, BrokenPipeError):
        proc.terminate()
        proc.wait(5)
        return 1


def _child(argv: list[str]) -> int:
    """The viewer process: `python -m heapviz.viewer --child FD CTL [--step] ...`, or
    `--child -1 -1 --states -` with a JSON list of states on stdin (play_ostep)."""
    p = argparse.ArgumentParser(prog="heapviz.viewer")
    p.add_argument("--child", nargs=2, type=int, required=True, metavar=("FD", "CTL"))
    p.add_argument("--step", action="store_true")
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=800)
    p.add_argument("--frames", type=int, default=0)
    p.add_argument("--zoom", type=float, default=1.0)
    p.add_argument("--screenshots", default=os.getcwd())
    p.add_argument("--states", help="'-': show these states (JSON on stdin) instead of a heap")
    a = p.parse_args(argv)
    try:
        states = None
        if a.states is not None:
            with open(0 if a.states == "-" else a.states) as f:
                states = [_tuples(st) for st in json.load(f)]
        return int(
            render.viz().run_viewer(
                a.child[0],
                a.child[1],
                step=a.step,
                width=a.width,
                height=a.height,
                frames=a.frames,
                screenshot_dir=a.screenshots,
                states=states,
                zoom=a.zoom,
            )
        )
    except (RuntimeError, ValueError) as e:
        sys.stderr.write(f"heapviz viewer: {e}\n")
        return 1
    except Exception:
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
