"""use_after_free_corrupts_list — in checks="report", a write into a freed block.

A free block keeps the free list's links in its first bytes.  Writing through the
dangling pointer overwrites them; the next malloc that follows the list finds a link
pointing nowhere and aborts.

mode: report
expect: UseAfterFree, HeapCorruption
address: 0x10010
offset: 0 bytes inside a block of size 32 free'd
"""
import heapviz

with heapviz.Heap(checks="report", order="lifo") as h:
    a = h.malloc(32)  # <- alloc_site
    guard = h.malloc(32)
    h.free(a)  # <- free_site
    a.cast("long")[0] = 0x4141414141414141  # <- UseAfterFree
    b = h.malloc(32)  # <- HeapCorruption
