"""uninit_branch — "Forgetting to initialize allocated memory" (OSTEP 14.4).

malloc() does not clear memory: the if decides on whatever bytes were there.

expect: UninitializedRead
address: 0x10010
offset: 0 bytes inside a block of size 4 alloc'd
report: Uninitialised value was created by a heap allocation
"""
import heapviz

with heapviz.Heap() as h:
    count = h.malloc(heapviz.sizeof("int")).cast("int")  # <- alloc_site
    if count[0] > 0:  # <- UninitializedRead
        print("positive")
    h.free(count)
