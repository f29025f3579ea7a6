"""Scenarios: heapviz's small text format for a heap lesson, and what runs them.

A scenario file (docs/scenarios.md) is one step a line:

    # a comment
    heap policy=first size=4K align=16
    p = malloc 100
    q = calloc 10 4
    write p "hello"
    p = realloc p 200
    free q
    expect DoubleFree
    free q

`expect NAME` says which error the next step must raise (BufferOverflow, DoubleFree, …, or
NULL for an allocation that must fail, Leak for a step that loses the last pointer to a block).
A step that raises the expected error passes; an unexpected error, or an expected one that
does not happen, stops the run with a message naming the line.

The parts, one module each:

* ``scenario.options`` — the heap line's options (heapviz.options), ScenarioError, make_heap;
* ``scenario.parser`` — ``parse(text, path)`` / ``read(path)`` -> Scenario;
* ``scenario.runner`` — ``Runner(scenario, heap)`` runs it step by step;
* ``scenario.scripts`` — ``run_script``: a Python script with `heap`/`h` bound to a heap made
  from the command line's options (which also apply to every heapviz.Heap it makes);
* ``scenario.files`` — any file (scenario, script, recording, trace) -> a live heap.

``python -m heapviz run`` is heapviz.cli.run.
"""

from __future__ import annotations

from heapviz.scenario.files import file_kind, heap_and_variables, heap_from_file
from heapviz.scenario.options import (
    HEAP_OPTIONS,
    ScenarioError,
    add_heap_options,
    heap_options,
    make_heap,
    parse_size,
)
from heapviz.scenario.parser import (
    ALLOCATORS,
    COMMANDS,
    ERRORS,
    EXPECTABLE,
    RESERVED,
    Ref,
    Scenario,
    Step,
    Tok,
    parse,
    read,
    tokenize,
)
from heapviz.scenario.runner import Runner, StepResult, site_code
from heapviz.scenario.scripts import TrackedHeap, run_script
from heapviz.viewer import display_available

__all__ = [
    "ALLOCATORS",
    "COMMANDS",
    "ERRORS",
    "EXPECTABLE",
    "HEAP_OPTIONS",
    "RESERVED",
    "Ref",
    "Runner",
    "Scenario",
    "ScenarioError",
    "Step",
    "StepResult",
    "Tok",
    "TrackedHeap",
    "add_heap_options",
    "display_available",
    "file_kind",
    "heap_and_variables",
    "heap_from_file",
    "heap_options",
    "make_heap",
    "parse",
    "parse_size",
    "read",
    "run_script",
    "site_code",
    "tokenize",
]
