"""realloc_moved_old_pointer — keeping the pointer that realloc() replaced.

q sits right after p, so realloc cannot grow p in place: it moves the data to a new block
and frees the old one.  p still points at the old one.

expect: UseAfterFree
address: 0x10010
offset: 0 bytes inside a block of size 16 free'd
report: by realloc(), which moved the block
"""
import heapviz

with heapviz.Heap() as h:
    p = h.malloc(4 * heapviz.sizeof("int")).cast("int")  # <- alloc_site
    q = h.malloc(16)  # in the way
    bigger = h.realloc(p, 100 * heapviz.sizeof("int"))  # <- free_site
    p[0] = 1  # <- UseAfterFree
    h.free(bigger)
    h.free(q)
