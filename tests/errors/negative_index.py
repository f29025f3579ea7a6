"""negative_index — "Not allocating enough memory": p[-1] is the int before the block.

C indexing, not Python's: p[-1] does not wrap around to the end, it writes the four bytes
in front of the block (where the allocator keeps its header).

expect: BufferOverflow
address: 0x1000c
offset: 4 bytes before a block of size 40 alloc'd
report: Invalid write of size 4
"""
import heapviz

with heapviz.Heap() as h:
    p = h.malloc(10 * heapviz.sizeof("int")).cast("int")
    p[-1] = 7  # <- BufferOverflow
    h.free(p)
