"""double_free_corrupts_list — in checks="report", a double free corrupts the free list.

With a LIFO free list (as glibc's fast bins), free(a); free(b); free(a) puts a on the
list twice.  heapviz reports the double free and lets it happen.  The next malloc hands
out a's block again (c and the dangling a now share it); the one after follows the list
into that allocated block and aborts, as glibc does with "corrupted double-linked list".
(glibc's fast bins check less: there the third malloc returns a's block a second time.)

mode: report
expect: DoubleFree, HeapCorruption
address: 0x10010
offset: 0 bytes inside a block of size 16 free'd
report: corrupted double-linked list
"""
import heapviz

with heapviz.Heap(checks="report", order="lifo") as h:
    a = h.malloc(16)  # <- alloc_site
    guard1 = h.malloc(16)  # keeps a and b from coalescing
    b = h.malloc(16)
    guard2 = h.malloc(16)
    h.free(a)  # <- free_site
    h.free(b)
    h.free(a)  # <- DoubleFree
    c = h.malloc(16)  # a's block again
    d = h.malloc(16)  # <- HeapCorruption
