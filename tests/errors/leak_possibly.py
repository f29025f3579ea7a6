"""leak_possibly — only a pointer into the middle of the block survives.

cursor = buf + 10 still points into the block, but not at its start: valgrind cannot tell
whether the program can still free it, and calls it "possibly lost".

expect: none
leak: possibly lost 100 1
"""
import heapviz

with heapviz.Heap() as h:
    buf = h.malloc(100)
    cursor = buf + 10
    buf = heapviz.NULL
