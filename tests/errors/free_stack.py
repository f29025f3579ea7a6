"""free_stack — "Calling free() incorrectly": a local array lives on the stack.

`int x[10];` is automatic memory: it disappears when the function returns, and free()
cannot take it.

expect: InvalidFree
address: 0x7fffffffefd0
offset: is on the stack
"""
import heapviz

with heapviz.Heap() as h, h.frame("main") as f:
    x = f.array("int", 10)  # int x[10];
    x[0] = 1
    h.free(x)  # <- InvalidFree
