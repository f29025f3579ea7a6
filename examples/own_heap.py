"""A script that makes its own heap: `python -m heapviz run examples/own_heap.py --gif run.gif`.

The command line's heap options (--policy best, …) apply to the heap it makes.
"""

import heapviz

with heapviz.Heap(size=4096) as h:
    blocks = [h.malloc(n) for n in (64, 200, 32, 500, 16)]
    for p in blocks[::2]:
        h.free(p)
    again = h.malloc(48)
    print("reused", hex(again), "policy", h.policy)
    for p in blocks[1::2]:
        h.free(p)
    h.free(again)
