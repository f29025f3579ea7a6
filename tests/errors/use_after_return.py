"""use_after_return — a pointer to a local variable of a function that has returned.

make() returns a pointer into its own stack frame; the frame is gone when make() returns.
valgrind sees the dead stack as uninitialised ("created by a stack allocation").

expect: UseAfterReturn
address: 0x7fffffffefdc
offset: is on the stack, in a frame that has returned
"""
import heapviz


def make(h):
    with h.frame("make") as f:
        local = f.array("int", 10)  # <- alloc_site
        for i in range(10):
            local[i] = i
        return local  # the frame ends here


with heapviz.Heap() as h, h.frame("main"):
    p = make(h)
    if p[3] == 3:  # <- UseAfterReturn
        print("three")
