"""clean_realloc — a control: growing and shrinking with realloc, keeping its result.

expect: none
"""
import heapviz

with heapviz.Heap() as h:
    n = 4
    a = h.malloc(n * heapviz.sizeof("int")).cast("int")
    for i in range(n):
        a[i] = i
    while n < 64:
        a = h.realloc(a, 2 * n * heapviz.sizeof("int")).cast("int")
        for i in range(n, 2 * n):
            a[i] = i
        n *= 2
    a = h.realloc(a, 8 * heapviz.sizeof("int")).cast("int")
    print(a[0:8])
    a = h.realloc(a, 0)  # frees, returns NULL
    print(a)
