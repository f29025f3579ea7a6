"""Leak detection, as valgrind's memcheck classifies leaks.

Roots are the Pointers the script still holds (valgrind scans registers and the stack),
plus the pointer values stored in live stack objects and in raw sbrk/mmap memory; edges are
pointer values stored inside heap blocks (aligned 8-byte words whose value points into
another block's payload).  A block reached from a root through pointers to its start is
"still reachable"; one reached only through interior pointers is "possibly lost"; one not
reached at all is "definitely lost", unless another lost block points to it: then it is
"indirectly lost" (it would be freed along with its owner).

`leak_summary` writes valgrind's HEAP SUMMARY and LEAK SUMMARY; Heap.close() (and the end
of a `with` block) prints it when anything leaked, and keeps the records, so h.leaks()
still answers after the heap is closed.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from heapviz import _core
from heapviz.records import Block, Leak, Site

if TYPE_CHECKING:
    from heapviz.model import HeapModel as Heap

KINDS = ("definitely lost", "indirectly lost", "possibly lost", "still reachable")
_REACHABLE, _POSSIBLY = 3, 2


def _live_blocks(heap: Heap) -> tuple[list[Block], list[Block]]:
    """The allocated blocks, and the memory scanned as roots (stack objects, raw memory)."""
    live: list[Block] = []
    scanned: list[Block] = []
    for b in heap.blocks():
        if b.state in ("allocated", "mmapped"):
            live.append(b)
        elif b.state in ("stack", "sbrk", "mapping"):
            scanned.append(b)
    return live, scanned


class _Index:
    """Find the block whose payload [payload, payload + requested) holds an address."""

    def __init__(self, blocks: list[Block]) -> None:
        self.blocks = sorted(blocks, key=lambda b: b.payload)
        self.starts = [b.payload for b in self.blocks]

    def find(self, addr: int) -> Block | None:
        i = bisect.bisect_right(self.starts, addr) - 1
        if i < 0:
            return None
        b = self.blocks[i]
        end = b.payload + max(b.requested, 1)
        return b if addr < end else None


def _words(heap: Heap, addr: int, n: int, index: _Index, own: int) -> list[tuple[int, bool]]:
    """The blocks the aligned 8-byte words of [addr, addr+n) point into, and whether
    each pointer is to the block's start."""
    n -= n % 8
    if n < 8:
        return []
    first = (-addr) % 8
    raw = heap._raw_read(addr, n)
    targets: list[tuple[int, bool]] = []
    for off in range(first, n - 7, 8):
        v = int.from_bytes(raw[off:off + 8], "little")
        t = index.find(v) if v else None
        if t is not None and t.payload != own:
            targets.append((t.payload, v == t.payload))
    return targets


def _edges(heap: Heap, blocks: list[Block], index: _Index) -> dict[int, list[tuple[int, bool]]]:
    """For each block payload: the blocks its words point to, and whether at the start."""
    return {b.payload: _words(heap, b.payload, b.requested, index, b.payload) for b in blocks}


@dataclass
class _Scan:
    """The result of one scan: the records and, for each definitely lost block, the bytes
    it owns indirectly."""

    leaks: list[Leak] = field(default_factory=list)
    indirect_bytes: dict[int, int] = field(default_factory=dict)


def _scan(heap: Heap) -> _Scan:
    blocks, scanned = _live_blocks(heap)
    index = _Index(blocks)
    by_payload = {b.payload: b for b in blocks}
    by_start = {b.address: b for b in blocks}
    edges = _edges(heap, blocks, index)
    state: dict[int, int] = {}  # payload -> _REACHABLE or _POSSIBLY
    work: list[int] = []

    def reach(payload: int, level: int) -> None:
        if state.get(payload, 0) < level:
            state[payload] = level
            work.append(payload)

    for bstart, seq, _count, starts in heap._roots():
        b = by_start.get(bstart)
        if b is not None and b.seq == seq:
            reach(b.payload, _REACHABLE if starts else _POSSIBLY)
    for s in scanned:  # pointers kept in stack objects and raw memory
        for t, at_start in _words(heap, s.payload, s.payload_size, index, 0):
            reach(t, _REACHABLE if at_start else _POSSIBLY)
    while work:
        p = work.pop()
        for t, at_start in edges[p]:
            reach(t, min(state[p], _REACHABLE if at_start else _POSSIBLY))
    lost = [b for b in blocks if b.payload not in state]
    lost_set = {b.payload for b in lost}
    pointed = {t for b in lost for t, _ in edges[b.payload] if t != b.payload}
    kinds: dict[int, str] = {}
    scan = _Scan()
    leaders = [b for b in lost if b.payload not in pointed]
    # then pure cycles of lost blocks: one leader each, in address order
    for b in leaders + sorted(lost, key=lambda b: b.payload):
        if b.payload in kinds:
            continue
        kinds[b.payload] = "definitely lost"
        scan.indirect_bytes[b.payload] = _mark_indirect(b.payload, edges, lost_set, kinds,
                                                        by_payload)
    scan.leaks = [Leak(kinds[b.payload], b, b.requested, b.site) for b in lost]
    for p, level in state.items():
        b = by_payload[p]
        scan.leaks.append(Leak("still reachable" if level == _REACHABLE else "possibly lost",
                               b, b.requested, b.site))
    scan.leaks.sort(key=lambda lk: (KINDS.index(lk.kind), lk.block.payload))
    return scan


def _mark_indirect(start: int, edges: dict[int, list[tuple[int, bool]]], lost: set[int],
                   kinds: dict[int, str], by_payload: dict[int, Block]) -> int:
    """Mark what `start` owns as indirectly lost; the bytes it owns."""
    stack, owned = [start], 0
    while stack:
        p = stack.pop()
        for t, _ in edges[p]:
            if t in lost and t not in kinds:
                kinds[t] = "indirectly lost"
                owned += by_payload[t].requested
                stack.append(t)
    return owned


def find_leaks(heap: Heap) -> list[Leak]:
    """Every block still allocated, classified (the heap must be open: Heap.leaks() keeps
    what close() found)."""
    return _scan(heap).leaks


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


def _records(scan: _Scan, kinds: tuple[str, ...]) -> list[_Record]:
    groups: dict[tuple[str, Site | None], _Record] = {}
    for lk in scan.leaks:
        if lk.kind not in kinds:
            continue
        rec = groups.setdefault((lk.kind, lk.alloc_site), _Record(lk.kind, lk.alloc_site))
        rec.blocks += 1
        rec.direct += lk.size
        if lk.kind == "definitely lost":
            rec.indirect += scan.indirect_bytes.get(lk.block.payload, 0)
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
    """What close() reports: the leaks (kept by the heap) and the summary ("" when
    nothing was lost)."""
    scan = _scan(heap)
    return scan.leaks, summary(heap, scan, only_if_leaked=True)


def summary(heap: Heap, scan: _Scan, only_if_leaked: bool = False,
            kinds: tuple[str, ...] = KINDS[:3]) -> str:
    """The summary text of one scan (see leak_summary)."""
    leaked = [lk for lk in scan.leaks if lk.kind != "still reachable"]
    if only_if_leaked and not leaked:
        return ""
    s = heap.stats()
    allocated = _allocated_bytes(heap)
    in_use = sum(lk.size for lk in scan.leaks)
    usage = (f"  total heap usage: {s.n_malloc + s.n_calloc + s.n_realloc} allocs, "
             f"{s.n_free} frees")
    if allocated is not None:
        usage += f", {allocated:,} bytes allocated"
    lines = ["HEAP SUMMARY:",
             f"    in use at exit: {in_use:,} bytes in {len(scan.leaks)} blocks", usage, ""]
    records = _records(scan, kinds)
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
        group = [lk for lk in scan.leaks if lk.kind == kind]
        lines.append(f"   {kind:>15}: {sum(lk.size for lk in group):,} bytes in {len(group)} "
                     "blocks")
    return "\n".join("==heapviz== " + line if line else "==heapviz==" for line in lines)
