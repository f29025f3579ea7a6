"""string_after_free — printing a string after freeing it (a dangling pointer).

expect: UseAfterFree
address: 0x10010
offset: 0 bytes inside a block of size 6 free'd
report: Invalid read of size 1
"""
import heapviz

with heapviz.Heap() as h:
    name = h.strdup("Alice")  # <- alloc_site
    h.free(name)  # <- free_site
    print(name.string())  # <- UseAfterFree
