"""wild_pointer — "Forgetting to allocate memory": a made-up address.

heapviz.Pointer(0x87654321) makes a pointer from an integer, as the C cast
(int *)0x87654321 does.  Nothing is mapped there.

expect: SegmentationFault
address: 0x87654321
offset: Address 0x87654321 is not stack'd, malloc'd or (recently) free'd
valgrind: Access not within mapped region at address 0x87654321
"""
import heapviz

with heapviz.Heap() as h:
    p = heapviz.Pointer(0x87654321, "int")  # int *p = (int *)0x87654321;
    p[0] = 10  # <- SegmentationFault
