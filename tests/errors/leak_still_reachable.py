"""leak_still_reachable — never freed, but the program still holds a pointer at exit.

"still reachable" is not lost memory: the program could free it.  valgrind lists it with
--show-leak-kinds=all; heapviz's h.leaks() lists it too.

expect: none
leak: still reachable 50 1
"""
import heapviz

with heapviz.Heap() as h:
    config = h.malloc(50)
    config[0] = 0
