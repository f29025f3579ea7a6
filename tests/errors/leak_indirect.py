"""leak_indirect — a linked list whose head pointer is lost.

The head is "definitely lost"; the nodes reachable only from it are "indirectly lost"
(freeing the head's list would free them).

expect: none
leak: definitely lost 16 1
leak: indirectly lost 32 2
"""
import heapviz


def push(h, head, value):
    n = h.malloc(16)  # struct node { int value; struct node *next; }
    n.cast("int")[0] = value
    (n + 8).cast("void*")[0] = head
    return n


with heapviz.Heap() as h:
    lst = heapviz.NULL
    for i in range(3):
        lst = push(h, lst, i)
    lst = heapviz.NULL  # <- lost
