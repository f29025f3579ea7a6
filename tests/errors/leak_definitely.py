"""leak_definitely — "Forgetting to free memory" (OSTEP 14.4): the only pointer is lost.

Overwriting p drops the last reference to the block: heapviz records a "lost" event at
that line, and the LEAK SUMMARY at the end of the with block counts it.

expect: none
leak: definitely lost 10 1
"""
import heapviz

with heapviz.Heap() as h:
    p = h.malloc(10)  # <- alloc_site
    p = heapviz.NULL  # <- lost
