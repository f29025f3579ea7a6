"""A linked list in the heap: run with `python -m heapviz run examples/linked_list.py`.

`heap` (also `h`) is the heap the command line describes (--policy, --size, …).
"""

import heapviz

# struct node { int value; struct node *next; }  -- 16 bytes with padding
NODE = 16
head = heapviz.NULL
for value in (3, 1, 4, 1, 5):
    node = heap.malloc(NODE)  # noqa: F821 - `heap` is given by `python -m heapviz run`
    node.cast("int")[0] = value
    (node + 8).cast("void*")[0] = head
    head = node

# Walk it, then free it node by node.
total = 0
p = head
while p:
    total += p.cast("int")[0]
    nxt = (p + 8).cast("void*")[0]
    heap.free(p)  # noqa: F821
    p = nxt
print("sum", total)
