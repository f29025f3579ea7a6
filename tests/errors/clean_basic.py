"""clean_basic — a control: the chapter's API used correctly.  No error, no leak.

expect: none
"""
import heapviz

with heapviz.Heap() as h:
    x = h.malloc(10 * heapviz.sizeof("int")).cast("int")
    for i in range(10):
        x[i] = i * i
    print(sum(x[i] for i in range(10)))
    z = h.calloc(8, heapviz.sizeof("double")).cast("double")
    print(z[0:8])
    heapviz.memset(x, 0, 10 * heapviz.sizeof("int"))
    y = h.malloc(10 * heapviz.sizeof("int")).cast("int")
    heapviz.memcpy(y, x, 10 * heapviz.sizeof("int"))
    print(y[9])
    h.free(x)
    h.free(y)
    h.free(z)
    h.free(heapviz.NULL)  # free(NULL) does nothing
