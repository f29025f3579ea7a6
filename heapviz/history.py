"""The heap at any step of its history: the one replay (viz/replay.c), as Python records.

Every "heap at step k" of every output — the window's timeline, PNG/GIF frames, SVG, the
notebook's timeline and its hover records, a recording's past states — is the C replay of
the heap's recorded events.  `History(h)` is its Python face:

    >>> import heapviz
    >>> h = heapviz.Heap()
    >>> p = h.malloc(24); q = h.malloc(100); h.free(p)
    >>> past = History(h)
    >>> past.steps
    3
    >>> [b.state for b in past.at(2).blocks()]
    ['allocated', 'allocated', 'free']
    >>> past.step(3).text
    'free(0x10010)'
    >>> past.at(3).blocks() == h.blocks()
    True

A `Moment` holds what the pictures of one step draw, as records: blocks (heapviz.Block, the
same as h.blocks() gives), free lists, stats, stack frames, the marks the pictures paint
(just freed, leaked…), the error banner and the event log.  `History.now()` is the live heap
read the same way, so a moment of the past and the present compare field by field (and the
tests do, after every step of random programs).  A History keeps its heap alive; once the heap
is closed, asking it anything raises ValueError.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from heapviz import _core, render
from heapviz.records import Block, Event, Site, Stats, block_from_tuple, site_of

# What the pictures paint on a block: bit i of a block's marks is MARKS[i] (HV_MARK_*).
MARKS: tuple[str, ...] = tuple(render.viz().MARKS) if render.available() else ()


@dataclass(frozen=True)
class Step:
    """What one operation did: the text every output shows, where, whether it was an
    error."""

    k: int
    text: str
    site: Site | None
    error: bool


class Moment:
    """The heap at one step, as the pictures of that step draw it."""

    def __init__(self, heap: Any, data: dict[str, Any]) -> None:
        self._heap, self._data = heap, data
        self._blocks: list[Block] | None = None

    @property
    def step(self) -> int:
        """Operations done at this moment (the timeline's position)."""
        return int(self._data["op"])

    @property
    def brk(self) -> int:
        return int(self._data["brk"])

    @property
    def rover(self) -> int:
        """Next fit's roving pointer (0: none)."""
        return int(self._data["rover"])

    @property
    def raw_blocks(self) -> list[tuple[Any, ...]]:
        """The blocks as raw tuples (heapviz.records.block_from_tuple reads them)."""
        return list(self._data["blocks"])

    def blocks(self) -> list[Block]:
        """Every block in address order, as h.blocks() gives them."""
        if self._blocks is None:
            self._blocks = [block_from_tuple(self._heap, t) for t in self._data["blocks"]]
        return list(self._blocks)

    def block(self, address: int) -> Block | None:
        """The block starting at `address`."""
        return next((b for b in self.blocks() if b.address == address), None)

    def free_lists(self) -> list[tuple[tuple[int, int], list[Block]]]:
        """Each free list with its size range [lo, hi], in list order (h.free_lists())."""
        at = {b.address: b for b in self.blocks()}
        return [((lo, hi), [at[a] for a in members if a in at])
                for lo, hi, members in self._data["free_lists"]]

    def free_list(self) -> list[Block]:
        """Every free block in list order, the lists in class order (h.free_list())."""
        return [b for _, members in self.free_lists() for b in members]

    def stats(self) -> Stats:
        return Stats(**self._data["stats"])

    def frames(self) -> list[tuple[str, int, int]]:
        """The stack frames, outermost first: (function, low, high) as h._frames()."""
        return [tuple(f) for f in self._data["frames"]]  # type: ignore[misc]

    def marks(self, address: int) -> set[str]:
        """What the pictures paint on the block starting at `address` (MARKS)."""
        for t, m in zip(self._data["blocks"], self._data["marks"], strict=True):
            if t[0] == address:
                return {name for i, name in enumerate(MARKS) if m & (1 << i)}
        return set()

    @property
    def mark_bits(self) -> dict[int, int]:
        """Block address -> its marks as the renderer's bits (bit i: MARKS[i])."""
        return {t[0]: m for t, m in zip(self._data["blocks"], self._data["marks"], strict=True)}

    @property
    def error(self) -> tuple[int, int, int, str] | None:
        """The banner of the last memory error: (kind, address, size, report), or None."""
        e = self._data["error"]
        return tuple(e) if e is not None else None  # type: ignore[return-value]

    @property
    def log(self) -> list[str]:
        """The event log's last lines, as the window shows them."""
        return list(self._data["log"])

    def observables(self) -> dict[str, Any]:
        """Everything a picture of this moment shows, for comparisons."""
        return {k: v for k, v in self._data.items() if k != "ops"}


class History:
    """The heap's recorded history, re-run by the C replay (see the module docstring)."""

    def __init__(self, heap: Any) -> None:
        self.heap = heap
        self._viz = render.viz()
        self.replay = self._viz.Replay(heap)

    @property
    def steps(self) -> int:
        """Operations recorded so far."""
        return int(self.replay.ops)

    def at(self, k: int) -> Moment:
        """The heap after k operations (0: the fresh heap; negative: from the end)."""
        n = self.steps
        if k < 0:
            k += n
        if not 0 <= k <= n:
            raise IndexError(f"step {k}: the history has steps 0..{n}")
        self.replay.goto(k)
        return Moment(self.heap, self.replay.moment())

    def now(self) -> Moment:
        """The live heap, read as a moment is."""
        return Moment(self.heap, self._viz.moment(self.heap._capsule()))

    def step(self, k: int) -> Step:
        """What operation k (1..steps) did."""
        text, site, error = self.replay.step(k)
        return Step(k, str(text), site_of(self.heap, site), bool(error))

    def errors(self, k: int | None = None) -> list[Event]:
        """The memory errors recorded up to step k (default: all)."""
        if k is not None:
            self.at(k)
        else:
            self.replay.goto(self.steps)
        names = _core.EVENT_KINDS
        return [Event(seq, op, names[kind], flags, site_of(self.heap, site), addr, size, a, b)
                for seq, op, kind, flags, site, addr, size, a, b in self.replay.errors()]
