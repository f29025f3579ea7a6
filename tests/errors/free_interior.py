"""free_interior — "Calling free() incorrectly" (OSTEP 14 homework 7): free(data + 50).

data + 50 points 200 bytes into the block; free() needs exactly what malloc returned.

expect: InvalidFree
address: 0x100d8
offset: 200 bytes inside a block of size 400 alloc'd
"""
import heapviz

with heapviz.Heap() as h:
    data = h.malloc(100 * heapviz.sizeof("int")).cast("int")  # <- alloc_site
    h.free(data + 50)  # <- InvalidFree
    h.free(data)
