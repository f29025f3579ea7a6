"""uninit_pointer — "Forgetting to allocate memory": a pointer that was never set.

`int *x;` declares a pointer but gives it no value; heapviz.Pointer() is that pointer.
In C it holds whatever was on the stack (valgrind: "Use of uninitialised value of size
8"); here it is 0, and storing through it crashes.

expect: SegmentationFault
address: 0x0
report: Use of uninitialised value of size 8
valgrind: Use of uninitialised value of size 8
"""
import heapviz

with heapviz.Heap() as h:
    x = heapviz.Pointer(type="int")  # int *x;  (never assigned)
    x[0] = 10  # <- SegmentationFault
