r"""Pictures of a heap: PNG, animated GIF/APNG timelines, and the scene they are drawn from.

Every picture goes through one C renderer (``heapviz._viz``): layout -> scene -> pixels.
``scene()`` hands the same scene to Python, so the notebook's SVG and HTML views draw exactly
what the window and the PNGs draw, with one legend (``legend()``).

    >>> import heapviz
    >>> h = heapviz.Heap()
    >>> p = h.malloc(24); h.free(p)
    >>> png = h.render("heap.png", width=900)      # PNG bytes, and the file
    >>> png[:4] == b"\x89PNG"
    True
    >>> h.render_timeline("run.gif")                # one frame per operation: 3
    3
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from types import FrameType, ModuleType
from typing import Any

from PIL import Image

from heapviz._core import Pointer

_WHY = ""  # why the renderer did not import
try:  # the renderer is optional: built only when SDL2, SDL2_ttf and libpng were found
    from heapviz import _viz as _renderer
except ImportError as _e:
    _renderer, _WHY = None, str(_e)

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_MISSING = (
    "heapviz's renderer is not built: pkg-config did not find SDL2, SDL2_ttf and "
    "libpng when heapviz was installed. On Debian/Ubuntu: apt-get install libsdl2-dev "
    "libsdl2-ttf-dev libpng-dev fonts-dejavu-core, then reinstall heapviz "
    "(pip install -e .)"
)

Vars = Mapping[str, int] | None


def viz() -> ModuleType:
    """The C renderer module, or a RuntimeError naming the missing packages."""
    if _renderer is None:
        raise RuntimeError(f"{_MISSING} ({_WHY})")
    return _renderer


def available() -> bool:
    """Whether the renderer was built (SDL2, SDL2_ttf and libpng were found)."""
    try:
        viz()
    except RuntimeError:
        return False
    return True


def legend() -> list[tuple[str, str, str]]:
    """The one legend of every output: (role, "#RRGGBB", what it means)."""
    return list(viz().legend())


# --- variables: the script's names that hold Pointers into this heap ----------------------
def _outside_frame() -> FrameType | None:
    """The innermost frame that is not heapviz's own code: the student's."""
    f = inspect.currentframe()
    while f is not None and os.path.dirname(os.path.abspath(f.f_code.co_filename)) == (
        _PACKAGE_DIR
    ):
        f = f.f_back
    return f


def pointer_vars(h: Any, frame: FrameType | None = None, limit: int = 32) -> dict[str, int]:
    """Names in `frame` (default: the caller's) bound to non-NULL Pointers into `h`.

    Locals first, then module globals, as a debugger's variables view shows them."""
    frame = frame if frame is not None else _outside_frame()
    out: dict[str, int] = {}
    if frame is None:
        return out
    scopes = [frame.f_locals]
    if frame.f_globals is not frame.f_locals:
        scopes.append(frame.f_globals)
    for scope in scopes:
        for name, value in list(scope.items()):
            if len(out) >= limit:
                return out
            if name.startswith("_") or name in out or not isinstance(value, Pointer):
                continue
            if getattr(value, "heap", None) is h and int(value) != 0:
                out[name] = int(value)
    return out


# --- sources --------------------------------------------------------------------------------
def _source(h: Any, at: int | None) -> Any:
    """What the C renderer draws: the live heap, a past moment (a Replay), or a dict."""
    if isinstance(h, dict):
        return h
    if at is None:
        return h._capsule()
    replay = viz().Replay(h)
    if at < 0:
        at += replay.ops
    if not 0 <= at <= replay.ops:
        raise ValueError(f"at={at}: the history has operations 0..{replay.ops}")
    replay.goto(at)
    return replay


def _vars(h: Any, vars: Vars | bool, at: int | None) -> dict[str, int] | None:
    """Explicit variables, or the caller's Pointers for a live picture."""
    if vars is False:
        return None
    if isinstance(vars, Mapping):
        return {str(k): int(v) for k, v in vars.items()}
    if at is not None or isinstance(h, dict):
        return None  # a past moment: today's variables would lie
    return pointer_vars(h)


def scene(
    h: Any, width: int = 1200, at: int | None = None, *, vars: Vars | bool = None, **opts: Any
) -> dict[str, Any]:
    """The scene of `h` (after `at` operations when given) as Python data.

    Returns {"width", "height", "background", "clip", "items"}; each item is a dict with
    "kind" (rect, box, hatch, line, arrow, text), "role" (its legend entry, see legend()),
    "color", "x", "y", "w", "h", "addr" (the block it belongs to, 0 for none), and per kind
    "text"/"small"/"bold"/"right", "style" (solid, dotted, jagged, thick) or "bend".
    `h` may also be a dict describing a state (see tests/test_viz_layout.py)."""
    src = _source(h, at)
    return dict(viz().scene(src, width=width, vars=_vars(h, vars, at), **opts))


def render_png(
    h: Any,
    path: str | os.PathLike[str] | None = None,
    width: int = 1200,
    *,
    at: int | None = None,
    vars: Vars | bool = None,
    **opts: Any,
) -> bytes:
    """The picture of `h` as PNG bytes; also written to `path` when given.

    Options: height (0: as tall as the content), at (after that many operations),
    vars (a dict name -> address; default: the caller's Pointer variables; False: none),
    chrome (title and timeline bars), zoom, selected (a block address), min_block (px)."""
    png: bytes = viz().render(_source(h, at), width=width, vars=_vars(h, vars, at), **opts)
    if path is not None:
        with open(path, "wb") as f:
            f.write(png)
    return png


def _frame_ops(total: int, max_frames: int) -> list[int]:
    if total + 1 <= max_frames:
        return list(range(total + 1))
    step = total / (max_frames - 1)
    return sorted({round(i * step) for i in range(max_frames)})


def render_timeline(
    h: Any,
    path: str | os.PathLike[str],
    *,
    width: int = 900,
    frame_ms: int = 400,
    last_ms: int = 2000,
    max_frames: int = 400,
    loop: int = 0,
    **opts: Any,
) -> int:
    """An animated GIF (".gif") or APNG (".png", ".apng"): one frame per operation of the
    recorded history (evenly sampled down to `max_frames`), with the timeline bar.

    Returns the number of frames written."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in (".gif", ".png", ".apng"):
        raise ValueError(f"render_timeline: {path!r} must end in .gif, .png or .apng")
    if max_frames < 2:
        raise ValueError("render_timeline: max_frames must be at least 2")
    _viz = viz()
    replay = _viz.Replay(h)
    ops = _frame_ops(replay.ops, max_frames)
    opts.setdefault("chrome", True)
    # One canvas height for every frame: the tallest of a few sampled moments.
    height = 0
    for op in [*ops[:: max(1, len(ops) // 8)], ops[-1]]:
        replay.goto(op)
        height = max(height, _viz.scene(replay, width=width, **opts)["height"])
    frames = []
    for op in ops:
        replay.goto(op)
        w, hh, data = _viz.pixels(replay, width=width, height=height, **opts)
        frames.append(Image.frombuffer("RGB", (w, hh), data, "raw", "BGRX", 0, 1))
    durations = [frame_ms] * (len(frames) - 1) + [last_ms]
    fmt = "GIF" if ext == ".gif" else "PNG"
    extra: dict[str, Any] = {"optimize": False} if fmt == "GIF" else {"default_image": False}
    frames[0].save(
        path,
        format=fmt,
        save_all=True,
        append_images=frames[1:],
        duration=durations,
        loop=loop,
        **extra,
    )
    return len(frames)


class Pictures:
    """The pictures of a heap, as methods (a mixin of heapviz.Heap)."""

    def render(self, path: str | None = None, width: int = 1200, **opts: Any) -> bytes:
        """A PNG picture of the heap now (written to path when given)."""
        return render_png(self, path=path, width=width, **opts)

    def render_timeline(self, path: str, **opts: Any) -> int:
        """An animated GIF or APNG of the recorded history, one frame per operation;
        returns the number of frames."""
        return render_timeline(self, path, **opts)
