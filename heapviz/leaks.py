"""Leak detection, as valgrind's memcheck classifies leaks.

Roots are the Pointers the script still holds (valgrind scans registers and the stack),
plus the pointer values stored in live stack objects and in raw sbrk/mmap memory; edges are
pointer values stored inside heap blocks (aligned 8-byte words whose value points into
another block's payload).  A block reached from a root through pointers to its start is
"still reachable"; one reached only through interior pointers is "possibly lost"; one not
reached at all is "definitely lost", unless another lost block points to it: then it is
"indirectly lost" (it would be freed along with its owner).

The scan itself is the core's (csrc/core/leaks.c, LSan's flood fill), the one the C runtime
uses at a C program's exit; this module gives it the Python heap's roots and writes the
report.

`leak_summary` writes valgrind's HEAP SUMMARY and LEAK SUMMARY; Heap.close() (and the end
of a `with` block) prints it when anything leaked, and keeps the records, so h.leaks()
still answers after the heap is closed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from heapviz import _core
from heapviz.records import Block, Leak, Site, site_of

if TYPE_CHECKING:
    from heapviz.model import HeapModel as Heap

KINDS = ("definitely lost", "indirectly lost", "possibly lost", "still reachable")


class _Found(Leak):
    """A Leak as the core's scan makes it (csrc/core/leaks.c through csrc/py/leaks.c):
    without a dataclass __init__ per record, and with its Block described when first asked
    for — a scan of 100,000 blocks would otherwise spend its time building them.  It
    compares, hashes and prints as the Leak it is."""

    __qualname__ = "Leak"
    # slots, not an instance dict: no dict to build for each of 100,000 records
    __slots__ = ("_block", "_heap", "_indirect", "_payload", "alloc_site", "kind", "size")

    @property
    def block(self) -> Block:  # type: ignore[override]
        try:
            return self._block
        except AttributeError:
            b = self._heap._block_record(self._payload, True)
            object.__setattr__(self, "_block", b)
            return b

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Leak):
            return NotImplemented
        return (self.kind, self.block, self.size, self.alloc_site) == \
            (other.kind, other.block, other.size, other.alloc_site)

    __hash__ = Leak.__hash__


def _site_of(heap: Heap) -> Callable[[int], Site | None]:
    def site(site_id: int) -> Site | None:
        return site_of(heap, site_id)

    return site


def _scan(heap: Heap) -> list[Leak]:
    """Every live block, classified, by kind then address (the core's scan: roots are
    the Pointers the script holds, and the pointer values kept in stack objects and raw
    memory)."""
    return _core._leak_scan(heap, _Found, KINDS, _site_of(heap))


def find_leaks(heap: Heap) -> list[Leak]:
    """Every block still allocated, classified (the heap must be open: Heap.leaks() keeps
    what close() found)."""
    return _scan(heap)


@dataclass
class _Record:
    """One loss record: the blocks of one kind allocated at one line."""

    kind: str
    site: Site | None
    blocks: int = 0
    direct: int = 0
    indirect: int = 0

    @property
    def total(self) -> int:
        return self.direct + self.indirect


def _records(leaks: list[Leak], kinds: tuple[str, ...]) -> list[_Record]:
    groups: dict[tuple[str, Site | None], _Record] = {}
    for lk in leaks:
        if lk.kind not in kinds:
            continue
        rec = groups.setdefault((lk.kind, lk.alloc_site), _Record(lk.kind, lk.alloc_site))
        rec.blocks += 1
        rec.direct += lk.size
        if lk.kind == "definitely lost":
            rec.indirect += getattr(lk, "_indirect", 0)
    return sorted(groups.values(), key=lambda r: (r.total, r.blocks))


def _allocated_bytes(heap: Heap) -> int | None:
    """Bytes asked for by every malloc/calloc/realloc, from the history (None when the
    history was truncated)."""
    first, count = heap._history()
    if first > 0:
        return None
    total = 0
    kinds = (_core.EV_MALLOC, _core.EV_CALLOC, _core.EV_REALLOC)
    for lo in range(0, count, 4096):
        for ev in heap._events(lo, min(count, lo + 4096)):
            if ev[2] in kinds and not ev[3] & (_core.EVF_SUB | _core.EVF_FAILED):
                total += ev[6]
    return total


def leak_summary(heap: Heap, only_if_leaked: bool = False,
                 kinds: tuple[str, ...] = KINDS[:3]) -> str:
    """valgrind's HEAP SUMMARY and LEAK SUMMARY, with a loss record per leaking line.

    Loss records are shown for `kinds` (valgrind's --show-leak-kinds; by default the
    three kinds of lost memory).  With only_if_leaked, "" when nothing was lost."""
    return summary(heap, _scan(heap), only_if_leaked, kinds)


def scan_at_exit(heap: Heap) -> tuple[list[Leak], str]:
    """What close() reports: the leaks (kept by the heap, each block described now: after
    close() the heap cannot be asked) and the summary ("" when nothing was lost)."""
    leaks = _scan(heap)
    for lk in leaks:
        _ = lk.block
    return leaks, summary(heap, leaks, only_if_leaked=True)


def summary(heap: Heap, leaks: list[Leak], only_if_leaked: bool = False,
            kinds: tuple[str, ...] = KINDS[:3]) -> str:
    """The summary text of one scan's leaks (see leak_summary)."""
    leaked = [lk for lk in leaks if lk.kind != "still reachable"]
    if only_if_leaked and not leaked:
        return ""
    s = heap.stats()
    allocated = _allocated_bytes(heap)
    in_use = sum(lk.size for lk in leaks)
    usage = (f"  total heap usage: {s.n_malloc + s.n_calloc + s.n_realloc} allocs, "
             f"{s.n_free} frees")
    if allocated is not None:
        usage += f", {allocated:,} bytes allocated"
    lines = ["HEAP SUMMARY:",
             f"    in use at exit: {in_use:,} bytes in {len(leaks)} blocks", usage, ""]
    records = _records(leaks, kinds)
    for i, rec in enumerate(records, 1):
        size = f"{rec.total:,}"
        if rec.indirect:
            size = f"{rec.total:,} ({rec.direct:,} direct, {rec.indirect:,} indirect)"
        lines.append(f"{size} bytes in {rec.blocks} blocks are {rec.kind} in loss record "
                     f"{i} of {len(records)}")
        where = rec.site
        lines.append(f"   at {where.function or '<module>'} ({where.short})" if where
                     else "   at (unknown)")
        lines.append("")
    lines.append("LEAK SUMMARY:")
    for kind in KINDS:
        group = [lk for lk in leaks if lk.kind == kind]
        lines.append(f"   {kind:>15}: {sum(lk.size for lk in group):,} bytes in {len(group)} "
                     "blocks")
    return "\n".join("==heapviz== " + line if line else "==heapviz==" for line in lines)
