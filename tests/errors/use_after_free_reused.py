"""use_after_free_reused — the freed memory already belongs to someone else.

After free(old), the next malloc of the same size gets the same memory.  A write through
the old pointer now changes fresh[0]: heapviz still knows `old` points into a freed
allocation (its provenance), even though the bytes are in use again.

expect: UseAfterFree
address: 0x10010
offset: 0 bytes inside a block of size 16 free'd
report: The memory has been reused since
"""
import heapviz

with heapviz.Heap() as h:
    old = h.malloc(4 * heapviz.sizeof("int")).cast("int")  # <- alloc_site
    h.free(old)  # <- free_site
    fresh = h.malloc(4 * heapviz.sizeof("int")).cast("int")  # reuses old's memory
    fresh[0] = 1
    old[0] = 99  # <- UseAfterFree
    print(fresh[0])
    h.free(fresh)
