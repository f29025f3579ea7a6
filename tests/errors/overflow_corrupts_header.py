"""overflow_corrupts_header — in checks="report", an overflow really lands in the next header.

strcpy runs far past the 8-byte block, over its footer and the next block's header.  As
in C, nothing stops it (heapviz reports it and goes on); the allocator notices at the next
free(), which finds the next block's size absurd and aborts as glibc does:
"free(): invalid next size (fast)".

mode: report
expect: BufferOverflow, HeapCorruption
address: 0x10018
offset: 0 bytes after a block of size 8 alloc'd
report: free(): invalid next size (fast)
native: free(): invalid next size (fast)
"""
import heapviz

with heapviz.Heap(checks="report") as h:
    name = h.malloc(8)  # <- alloc_site
    other = h.malloc(8)
    heapviz.strcpy(name, "a name much longer than eight bytes")  # <- BufferOverflow
    h.free(name)  # <- HeapCorruption
    h.free(other)
