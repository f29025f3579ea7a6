"""clean_strings — a control: strings with room for the NUL.  No error, no leak.

expect: none
"""
import heapviz

with heapviz.Heap() as h:
    src = "hello"
    dst = h.malloc(heapviz.strlen(src) + 1)
    heapviz.strcpy(dst, src)
    print(dst.string())
    copy = h.strdup(dst)
    line = h.malloc(32)
    heapviz.strcpy(line, copy)
    heapviz.strcat(line, ", world")
    print(line.string(), heapviz.strlen(line))
    short = h.malloc(4)
    heapviz.strncpy(short, "abcdef", 3)
    short[3] = 0
    print(short.string())
    h.free(dst)
    h.free(copy)
    h.free(line)
    h.free(short)
