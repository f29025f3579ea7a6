"""Leak detection, as valgrind's memcheck classifies leaks.

Roots are the Pointers the script still holds (valgrind scans registers and the stack);
edges are pointer values stored inside heap blocks (aligned 8-byte words whose value
points into another block's payload).  A block reached from a root through pointers to its
start is "still reachable"; one reached only through interior pointers is "possibly
lost"; one not reached at all is "definitely lost", unless another lost block points to it:
then it is "indirectly lost" (it will be freed once its owner is).
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

from heapviz.records import Block, Leak

if TYPE_CHECKING:
    from heapviz.heap import Heap

KINDS = ("definitely lost", "indirectly lost", "possibly lost", "still reachable")


def _live_blocks(heap: Heap) -> list[Block]:
    return [b for b in heap.blocks() if b.state in ("allocated", "mmapped")]


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


def _edges(heap: Heap, blocks: list[Block], index: _Index) -> dict[int, list[tuple[int, bool]]]:
    """For each block payload: the blocks its words point to, and whether at the start."""
    out: dict[int, list[tuple[int, bool]]] = {}
    for b in blocks:
        n = b.requested - b.requested % 8
        targets: list[tuple[int, bool]] = []
        if n >= 8:
            raw = heap._raw_read(b.payload, n)
            for off in range(0, n, 8):
                v = int.from_bytes(raw[off:off + 8], "little")
                t = index.find(v) if v else None
                if t is not None and t.payload != b.payload:
                    targets.append((t.payload, v == t.payload))
        out[b.payload] = targets
    return out


def find_leaks(heap: Heap) -> list[Leak]:
    blocks = _live_blocks(heap)
    index = _Index(blocks)
    by_payload = {b.payload: b for b in blocks}
    by_start = {b.address: b for b in blocks}
    edges = _edges(heap, blocks, index)
    state: dict[int, int] = {}  # payload -> 3 reachable, 2 possibly
    work: list[int] = []
    for bstart, seq, _count, starts in heap._roots():
        b = by_start.get(bstart)
        if b is None or b.seq != seq:
            continue
        level = 3 if starts else 2
        if state.get(b.payload, 0) < level:
            state[b.payload] = level
            work.append(b.payload)
    while work:
        p = work.pop()
        for t, at_start in edges[p]:
            level = min(state[p], 3 if at_start else 2)
            if state.get(t, 0) < level:
                state[t] = level
                work.append(t)
    lost = [b for b in blocks if b.payload not in state]
    lost_set = {b.payload for b in lost}
    pointed = {t for b in lost for t, _ in edges[b.payload] if t != b.payload}
    kinds: dict[int, str] = {}
    for b in sorted(lost, key=lambda b: b.payload):
        if b.payload in pointed or b.payload in kinds:
            continue
        kinds[b.payload] = "definitely lost"
        _mark_indirect(b.payload, edges, lost_set, kinds)
    for b in sorted(lost, key=lambda b: b.payload):  # pure cycles: one leader each
        if b.payload not in kinds:
            kinds[b.payload] = "definitely lost"
            _mark_indirect(b.payload, edges, lost_set, kinds)
    result = [Leak(kinds[b.payload], b, b.requested, b.site) for b in lost]
    for p, level in state.items():
        b = by_payload[p]
        result.append(Leak("still reachable" if level == 3 else "possibly lost", b,
                           b.requested, b.site))
    result.sort(key=lambda lk: (KINDS.index(lk.kind), lk.block.payload))
    return result


def _mark_indirect(start: int, edges: dict[int, list[tuple[int, bool]]], lost: set[int],
                   kinds: dict[int, str]) -> None:
    stack = [start]
    while stack:
        p = stack.pop()
        for t, _ in edges[p]:
            if t in lost and t not in kinds:
                kinds[t] = "indirectly lost"
                stack.append(t)


def leak_summary(heap: Heap, only_if_leaked: bool = False) -> str:
    """valgrind's HEAP SUMMARY and LEAK SUMMARY, with a loss record per leaked block."""
    leaks = find_leaks(heap)
    leaked = [lk for lk in leaks if lk.kind != "still reachable"]
    if only_if_leaked and not leaked:
        return ""
    s = heap.stats()
    live = [lk for lk in leaks]
    lines = ["HEAP SUMMARY:",
             f"    in use at exit: {sum(lk.size for lk in live)} bytes in {len(live)} blocks",
             f"  total heap usage: {s.n_malloc + s.n_calloc + s.n_realloc} allocs, "
             f"{s.n_free} frees", ""]
    for i, lk in enumerate(leaked, 1):
        where = lk.alloc_site
        lines.append(f"{lk.size} bytes in 1 blocks are {lk.kind} in loss record {i} of "
                     f"{len(leaked)}")
        lines.append(f"   at malloc ({where.short})" if where else "   at malloc (unknown)")
        lines.append("")
    lines.append("LEAK SUMMARY:")
    for kind in KINDS:
        group = [lk for lk in leaks if lk.kind == kind]
        lines.append(f"   {kind:>15}: {sum(lk.size for lk in group)} bytes in {len(group)} "
                     "blocks")
    return "\n".join("==heapviz== " + line if line else "==heapviz==" for line in lines)
