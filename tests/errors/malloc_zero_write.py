"""malloc_zero_write — malloc(0) returns a block with room for nothing.

expect: BufferOverflow
address: 0x10010
offset: 0 bytes after a block of size 0 alloc'd
report: Invalid write of size 1
"""
import heapviz

with heapviz.Heap() as h:
    p = h.malloc(0)
    p[0] = ord("x")  # <- BufferOverflow
    h.free(p)
