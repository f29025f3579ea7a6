"""Python scripts as `python -m heapviz run` runs them: `heap`/`h` bound to a heap made from
the command line's options, which also apply to every heapviz.Heap the script makes."""

from __future__ import annotations

import os
import runpy
import sys
import traceback
from collections.abc import Callable
from typing import Any, TextIO

import heapviz
from heapviz import options
from heapviz.errors import HeapError
from heapviz.heap import Heap
from heapviz.scenario.options import ScenarioError


class _ScriptRun:
    """The heaps a Python script uses (heapviz.Heap is swapped for a tracking subclass while
    the script runs), and what to do with each before it is closed."""

    def __init__(self, overrides: dict[str, Any], on_close: Callable[[Any], None],
                 view: Callable[[Any], None] | None) -> None:
        self.overrides, self.on_close, self.view = overrides, on_close, view
        self.heaps: list[Any] = []
        self.provided: Any = None
        self.finished: list[Any] = []

    def finish(self, h: Any) -> None:
        if any(x is h for x in self.finished) or h.closed:
            return
        if h is self.provided and h._history()[1] == 0:
            return  # the script made its own heap and never used the one it was given
        self.finished.append(h)
        self.on_close(h)


_ACTIVE: list[_ScriptRun] = []


class TrackedHeap(Heap):
    """heapviz.Heap as a script run by `python -m heapviz run` sees it: the command line's
    options apply, and the run's outputs are written before the heap is closed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        run = _ACTIVE[-1] if _ACTIVE else None
        cfg = options.bind(args, kwargs)  # Heap's own TypeError for a wrong call
        if run is not None:
            cfg.update(run.overrides)
        super().__init__(**cfg)
        if run is not None:
            run.heaps.append(self)
            if run.view is not None:
                run.view(self)

    def close(self) -> None:
        for run in _ACTIVE:
            if any(h is self for h in run.heaps):
                run.finish(self)
        super().close()


def _script_traceback(exc: BaseException) -> str:
    """The student's part of a traceback (heapviz's and runpy's own frames left out)."""
    te = traceback.TracebackException.from_exception(exc)
    pkg = os.path.dirname(os.path.abspath(__file__))
    frames = [f for f in te.stack if not os.path.abspath(f.filename).startswith(pkg + os.sep)
              and "runpy" not in f.filename]
    te.stack = traceback.StackSummary.from_list(frames)
    return "".join(te.format())


def run_script(path: str, options: dict[str, Any], on_close: Callable[[Any], None],
               view: Callable[[Any], None] | None = None, argv: list[str] | None = None,
               stderr: TextIO | None = None) -> tuple[int, list[Any]]:
    """Run a Python script with `heap`/`h` bound to Heap(**options); a Heap the script makes
    gets `options` too.  Returns (exit status, the heaps the script used, still open).

    `on_close(heap)` runs for every heap the script used, before it is closed (or at the
    end of the script); `view(heap)` as soon as each heap is made."""
    stderr = stderr or sys.stderr
    run = _ScriptRun(options, on_close, view)
    saved = (heapviz.Heap, sys.argv[:], sys.path[:])
    status = 0
    _ACTIVE.append(run)
    heapviz.Heap = TrackedHeap  # type: ignore[misc]
    try:
        try:
            heap = TrackedHeap()
        except (ValueError, TypeError, OverflowError, OSError) as e:
            raise ScenarioError(path, 0, f"cannot make the heap: {e}") from None
        run.provided = heap
        sys.argv = [path, *(argv or [])]
        sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
        runpy.run_path(path, init_globals={"heap": heap, "h": heap, "heapviz": heapviz},
                       run_name="__main__")
    except ScenarioError:
        raise
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if e.code is not None and not isinstance(e.code, int):
            print(e.code, file=stderr)
    except HeapError as e:
        print(f"{path}: {type(e).__name__}\n{e}", file=stderr)
        status = 1
    except KeyboardInterrupt:
        print(f"{path}: interrupted", file=stderr)
        status = 130
    except BaseException as e:
        print(_script_traceback(e), end="", file=stderr)
        status = 1
    finally:
        heapviz.Heap = saved[0]  # type: ignore[misc]
        sys.argv, sys.path[:] = saved[1], saved[2]
        _ACTIVE.remove(run)
    for h in run.heaps:
        run.finish(h)
    return status, [h for h in run.finished if not h.closed]
