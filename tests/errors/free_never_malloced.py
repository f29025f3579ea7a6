"""free_never_malloced — "Calling free() incorrectly": memory malloc() never returned.

mmap() hands out pages directly from the operating system; they are not malloc's blocks,
and free() cannot take them (munmap() gives them back).

expect: InvalidFree
address: 0x7f0000000000
offset: is in a rw- anonymous segment
"""
import heapviz

with heapviz.Heap() as h:
    p = h.mmap(4096)
    p[0] = ord("x")
    h.free(p)  # <- InvalidFree
    h.munmap(p)
