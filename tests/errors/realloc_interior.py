"""realloc_interior — realloc() of a pointer into the middle of a block.

realloc, like free, takes exactly a pointer malloc returned.

expect: InvalidFree
address: 0x10018
offset: 8 bytes inside a block of size 64 alloc'd
"""
import heapviz

with heapviz.Heap() as h:
    buf = h.malloc(64)  # <- alloc_site
    r = h.realloc(buf + 8, 128)  # <- InvalidFree
    h.free(buf)
