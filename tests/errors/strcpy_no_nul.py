"""strcpy_no_nul — "Not allocating enough memory" (OSTEP 14.4): strcpy without the + 1.

malloc(strlen(src)) leaves no room for the terminating NUL; strcpy writes it one byte past
the end of the block.

expect: BufferOverflow
address: 0x10015
offset: 0 bytes after a block of size 5 alloc'd
report: Invalid write of size 1
"""
import heapviz

with heapviz.Heap() as h:
    src = "hello"
    dst = h.malloc(heapviz.strlen(src))  # <- alloc_site
    heapviz.strcpy(dst, src)  # <- BufferOverflow
    h.free(dst)
