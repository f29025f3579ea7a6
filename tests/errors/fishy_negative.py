"""fishy_negative — a negative size becomes a huge size_t.

count - used is -2; as malloc's size_t argument it is 18446744073709551614.

expect: FishyValue
address: 0x0
report: Argument 'size' of function malloc has a fishy (possibly negative) value: -2
"""
import heapviz

with heapviz.Heap() as h:
    count, used = 3, 5
    p = h.malloc(count - used)  # <- FishyValue
    print("NULL" if not p else "not NULL")
