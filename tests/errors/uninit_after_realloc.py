"""uninit_after_realloc — realloc keeps the old bytes; the added ones hold garbage.

a[3] was written before the realloc and is fine; a[6] is one of the new, uninitialized
ints.  The uninitialized value was "created" by the realloc, as valgrind says.

expect: UninitializedRead
address: 0x10028
offset: 24 bytes inside a block of size 32 alloc'd
report: by realloc(), which grew the block
"""
import heapviz

with heapviz.Heap() as h:
    a = h.malloc(4 * heapviz.sizeof("int")).cast("int")
    for i in range(4):
        a[i] = i
    a = h.realloc(a, 8 * heapviz.sizeof("int")).cast("int")  # <- alloc_site
    if a[3] == 3:
        print("kept")
    if a[6] == 0:  # <- UninitializedRead
        print("zero?")
    h.free(a)
