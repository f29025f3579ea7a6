"""A scenario's heap: its options (heapviz.options), ScenarioError, and making the heap.

Shared by the scenario parser (a `heap` line), `python -m heapviz run`, `compare` and the
demo.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from heapviz import options, sizes
from heapviz.heap import Heap


class ScenarioError(ValueError):
    """A malformed scenario: `path`, `line` (1-based, 0 for the whole file), `reason`."""

    def __init__(self, path: str, line: int, reason: str, source: str | None = None) -> None:
        self.path, self.line, self.reason, self.source = path, line, reason, source
        where = f"{path}:{line}" if line else path
        text = f"{where}: {reason}"
        if source is not None and source.strip():
            shown = source.strip()
            text += "\n    " + (shown if len(shown) <= 100 else shown[:100] + "…")
        super().__init__(text)




parse_size = sizes.parse_size
_BIG = sizes.BIG

# The Heap options a scenario header, a command line or compare may set, with their parsers
# (heapviz.options describes them all).
HEAP_OPTIONS: dict[str, Callable[[str], Any]] = {
    name: options.OPTIONS[name].parse for name in options.SAVED}


def add_heap_options(parser: argparse.ArgumentParser, policy: bool = True) -> None:
    """The Heap options as command-line flags (default: what the file says, else Heap's)."""
    options.add_arguments(parser, exclude=() if policy else ("policy",))


def heap_options(args: argparse.Namespace, policy: bool = True) -> dict[str, Any]:
    """The Heap options given on the command line (those left out are not in the dict)."""
    return options.from_args(args, exclude=() if policy else ("policy",))


def make_heap(options: dict[str, Any], where: str = "heap") -> Heap:
    """Heap(**options), its ValueError/TypeError turned into a ScenarioError."""
    try:
        return Heap(**options)
    except (ValueError, TypeError, OverflowError, OSError, MemoryError) as e:
        raise ScenarioError(where, 0, f"cannot make the heap: {e}") from None
