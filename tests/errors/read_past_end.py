"""read_past_end — "Not allocating enough memory": a loop that runs one element too far.

`for (i = 0; i <= 10; i++)` reads a[10] of a 10-element array.

expect: BufferOverflow
address: 0x10038
offset: 0 bytes after a block of size 40 alloc'd
report: Invalid read of size 4
"""
import heapviz

with heapviz.Heap() as h:
    a = h.malloc(10 * heapviz.sizeof("int")).cast("int")
    for i in range(10):
        a[i] = i
    total = 0
    for i in range(11):  # i <= 10: one too many
        total += a[i]  # <- BufferOverflow
    print(total)
    h.free(a)
