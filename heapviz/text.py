"""The heap as text: a block table and a one-line strip, for terminals and the text demo."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from heapviz.model import HeapModel as Heap
    from heapviz.records import Block

_MARK = {"allocated": "#", "free": ".", "mmapped": "M", "mapping": "m", "sbrk": "s",
         "stack": "S"}


def strip(h: Heap, width: int = 64) -> str:
    """[####....##......] — the heap from its start to the break, to scale."""
    lay = h.layout
    start = lay["heap_base"]
    end = int(h.brk)
    span = max(1, end - start)
    cells = ["|"] * width
    for b in h.blocks():
        if b.address >= end or b.state in ("mmapped", "mapping", "stack"):
            continue
        lo = (b.address - start) * width // span
        hi = max(lo + 1, (b.end - start) * width // span)
        for i in range(lo, min(hi, width)):
            cells[i] = _MARK.get(b.state, "?")
    return "[" + "".join(cells) + "]"


def _row(b: Block) -> str:
    what = f"{b.state:<9}"
    req = f"req {b.requested:>5}" if b.allocated else " " * 9
    site = f"  {b.site.short}" if b.site and b.allocated else ""
    links = ""
    if b.state == "free":
        nxt = f"0x{b.next_free:x}" if b.next_free else "NULL"
        links = f"  next → {nxt}"
    return (f"  0x{b.address:08x}  {what} size {b.size:>6}  payload 0x{b.payload:x}  "
            f"{req}{site}{links}")


def table(h: Heap) -> str:
    """Every block, one line each, then the free list and the key numbers."""
    lines = [_row(b) for b in h.blocks()]
    fl = " → ".join(f"0x{b.address:x}({b.size})" for b in h.free_list()) or "(empty)"
    s = h.stats()
    lines.append(f"  free list: {fl} → NULL")
    lines.append(f"  heap {s.heap_size} B, in use {s.in_use} B, free {s.free_bytes} B, "
                 f"largest free {s.largest_free} B, utilization {s.utilization:.0%}")
    return "\n".join(lines)
