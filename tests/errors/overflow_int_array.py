"""overflow_int_array — "Not allocating enough memory" (OSTEP 14 homework, question 5).

An array of 100 ints is allocated and data[100], one past the last element, is set.

expect: BufferOverflow
address: 0x101a0
offset: 0 bytes after a block of size 400 alloc'd
"""
import heapviz

with heapviz.Heap() as h:
    data = h.malloc(100 * heapviz.sizeof("int")).cast("int")  # <- alloc_site
    data[100] = 0  # <- BufferOverflow
    h.free(data)
