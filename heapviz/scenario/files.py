"""Any file -> a heap: a scenario, a Python script, a recording or a malloc-lab trace, and
the variables to draw (for `python -m heapviz view` and `compare`)."""

from __future__ import annotations

import contextlib
from typing import Any

from heapviz import recording, trace
from heapviz.heap import Heap
from heapviz.scenario.options import ScenarioError, make_heap
from heapviz.scenario.parser import read
from heapviz.scenario.runner import Runner
from heapviz.scenario.scripts import run_script


def file_kind(path: str) -> str:
    """"python", "recording", "trace" or "scenario", from the name (and the first bytes)."""
    low = path.lower()
    if low.endswith((".py", ".pyw")):
        return "python"
    if low.endswith((".hvlog", ".hvlog.gz")):
        return "recording"
    if low.endswith(".rep"):
        return "trace"
    with contextlib.suppress(OSError), open(path, "rb") as f:
        head = f.read(64)
        if head.startswith(b"\x1f\x8b") or b"heapviz-recording" in head:
            return "recording"
    return "scenario"


def heap_and_variables(path: str, **options: Any) -> tuple[Heap, dict[str, int]]:
    """A live heap after running FILE, and the variables to draw: a scenario (up to its end
    or its first failure; its variables), a Python script (the first heap it used, left
    open), a recording (replayed) or a malloc-lab trace (replayed as the lab does).

    `options` override the file's heap options.  Raises ScenarioError (or RecordingError,
    TraceError) with a clear message when the file is malformed."""
    kind = file_kind(path)
    if kind == "recording":
        return recording.load(path).replay(overrides=options or None), {}
    if kind == "trace":
        return trace.trace_heap(path, options), {}
    if kind == "python":
        _, heaps = run_script(path, options, on_close=lambda h: None)
        if not heaps:
            raise ScenarioError(path, 0, "the script left no open heap that it used")
        return heaps[0], {}
    sc = read(path)
    h = make_heap({**sc.options, **options}, path)
    runner = Runner(sc, h)
    runner.run()
    h.hold(runner.vars)  # the scenario's pointers live as long as the heap
    return h, runner.pointer_vars()


def heap_from_file(path: str, **options: Any) -> Heap:
    """The heap of heap_and_variables(path, **options)."""
    return heap_and_variables(path, **options)[0]
