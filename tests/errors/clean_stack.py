"""clean_stack — a control: stack memory used only while its frame lives.

expect: none
"""
import heapviz


def square_all(h, values):
    with h.frame("square_all") as f:
        tmp = f.array("int", len(values))
        for i, v in enumerate(values):
            tmp[i] = v * v
        result = h.malloc(len(values) * heapviz.sizeof("int")).cast("int")
        heapviz.memcpy(result, tmp, len(values) * heapviz.sizeof("int"))
        return result  # heap memory outlives the frame


with heapviz.Heap() as h, h.frame("main") as f:
    counter = f.array("int", 1)
    counter[0] = 0
    squares = square_all(h, [1, 2, 3])
    counter[0] += squares[2]
    print(counter[0])
    h.free(squares)
