"""calloc_overflow — calloc(nmemb, size) whose product does not fit in a size_t.

C's calloc checks the multiplication and returns NULL; the program must check for NULL.
heapviz records and prints the report, then returns NULL as C does (even in "strict":
this is a failed allocation, not an invalid access).  valgrind stays silent here.

expect: FishyValue
address: 0x0
report: 4611686018427387904 * 8 = 36893488147419103232 does not fit in a size_t
report: calloc() returns NULL
"""
import heapviz

with heapviz.Heap() as h:
    n = 1 << 62
    table = h.calloc(n, heapviz.sizeof("long"))  # <- FishyValue
    print("NULL" if not table else "not NULL")
    h.free(table)
