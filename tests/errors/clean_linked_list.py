"""clean_linked_list — a control: a linked list built, walked and freed node by node.

expect: none
"""
import heapviz


def push(h, head, value):
    n = h.malloc(16)  # struct node { int value; struct node *next; }
    n.cast("int")[0] = value
    (n + 8).cast("void*")[0] = head
    return n


with heapviz.Heap() as h:
    head = heapviz.NULL
    for i in range(5):
        head = push(h, head, i)
    total = 0
    node = head
    while node:
        total += node.cast("int")[0]
        node = (node + 8).cast("void*")[0]
    print(total)
    while head:
        nxt = (head + 8).cast("void*")[0]
        h.free(head)
        head = nxt
