"""null_deref — "Forgetting to allocate memory" (OSTEP 14.4): dereferencing NULL.

The pointer was never pointed at memory; storing through it crashes the C program with a
segmentation fault.

expect: SegmentationFault
address: 0x0
report: Access not within mapped region at address 0x0
valgrind: Process terminating with default action of signal 11 (SIGSEGV)
"""
import heapviz

with heapviz.Heap() as h:
    p = heapviz.NULL.cast("int")  # int *p = NULL;
    p[0] = 10  # <- SegmentationFault
