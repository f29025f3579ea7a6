"""double_free — "Freeing memory repeatedly" (OSTEP 14.4).

The report names both frees: the second is the error, the first is where the block went.

expect: DoubleFree
address: 0x10010
offset: 0 bytes inside a block of size 10 free'd
report: Block was alloc'd at
"""
import heapviz

with heapviz.Heap() as h:
    p = h.malloc(10)  # <- alloc_site
    h.free(p)  # <- free_site
    h.free(p)  # <- DoubleFree
