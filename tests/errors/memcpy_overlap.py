"""memcpy_overlap — memcpy() between overlapping regions (memmove() is for that).

expect: OverlappingCopy
address: 0x10018
report: Source and destination overlap in memcpy(0x10018, 0x10010, 32)
"""
import heapviz

with heapviz.Heap() as h:
    buf = h.malloc(64)
    heapviz.memset(buf, ord("x"), 64)
    heapviz.memcpy(buf + 8, buf, 32)  # <- OverlappingCopy
    h.free(buf)
