"""realloc_shrink_write — writing where a block used to be, after realloc shrank it.

The block had 100 bytes; realloc(p, 10) keeps 10.  p[15] was fine before, not any more.

expect: BufferOverflow
address: 0x1001f
offset: 5 bytes after a block of size 10 alloc'd
report: Invalid write of size 1
"""
import heapviz

with heapviz.Heap() as h:
    p = h.malloc(100)
    p = h.realloc(p, 10)
    p[15] = ord("x")  # <- BufferOverflow
    h.free(p)
