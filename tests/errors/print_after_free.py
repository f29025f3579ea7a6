"""print_after_free — "Freeing memory before you are done with it" (OSTEP 14 homework 6).

An array of 100 integers is allocated, filled, freed, and then one element is printed.

expect: UseAfterFree
address: 0x100b8
offset: 168 bytes inside a block of size 400 free'd
report: Invalid read of size 4
report: Block was alloc'd at
"""
import heapviz

with heapviz.Heap() as h:
    data = h.malloc(100 * heapviz.sizeof("int")).cast("int")  # <- alloc_site
    for i in range(100):
        data[i] = i
    h.free(data)  # <- free_site
    print(data[42])  # <- UseAfterFree
