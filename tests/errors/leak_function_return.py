"""leak_function_return — a function forgets to free its buffer.

The last reference to buf dies when greet() returns: the "lost" event is recorded at
the line of the call that returned.

expect: none
leak: definitely lost 32 1
"""
import heapviz


def greet(h, name):
    buf = h.malloc(32)  # <- alloc_site
    heapviz.strcpy(buf, "hello " + name)
    print(buf.string())


with heapviz.Heap() as h:
    greet(h, "Ada")  # <- lost
