"""free_wild — "Calling free() incorrectly": freeing a made-up address.

expect: InvalidFree
address: 0x87654321
offset: Address 0x87654321 is not stack'd, malloc'd or (recently) free'd
"""
import heapviz

with heapviz.Heap() as h:
    p = heapviz.Pointer(0x87654321, "int")
    h.free(p)  # <- InvalidFree
