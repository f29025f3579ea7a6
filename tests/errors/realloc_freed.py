"""realloc_freed — realloc() of a block that was already freed: it would be freed again.

expect: DoubleFree
address: 0x10010
offset: 0 bytes inside a block of size 32 free'd
"""
import heapviz

with heapviz.Heap() as h:
    buf = h.malloc(32)  # <- alloc_site
    h.free(buf)  # <- free_site
    buf = h.realloc(buf, 64)  # <- DoubleFree
    h.free(buf)
