"""A table of wrong calls: each must raise the right exception with a clear message, and
leave the heap and the interpreter intact (as multidict's test_incorrect_args does)."""

from __future__ import annotations

import pytest

import heapviz
from heapviz import Heap, Pointer


def _h() -> Heap:
    return Heap()


CASES = [
    # (description, call(heap, p), exception, message fragment)
    ("malloc(str)", lambda h, p: h.malloc("16"), TypeError, "must be an int"),
    ("malloc(float)", lambda h, p: h.malloc(16.0), TypeError, "must be an int"),
    ("malloc(None)", lambda h, p: h.malloc(None), TypeError, "must be an int"),
    ("malloc(bool)", lambda h, p: h.malloc(True), TypeError, "must be an int"),
    ("malloc(-1)", lambda h, p: h.malloc(-1), ValueError, "fishy"),
    ("malloc(2**64)", lambda h, p: h.malloc(2**64), OverflowError, "64-bit"),
    ("malloc(2**200)", lambda h, p: h.malloc(2**200), OverflowError, "64-bit"),
    ("malloc()", lambda h, p: h.malloc(), TypeError, ""),
    ("calloc(1)", lambda h, p: h.calloc(1), TypeError, "2 arguments"),
    ("calloc(-1, 4)", lambda h, p: h.calloc(-1, 4), ValueError, "fishy"),
    ("calloc('a', 4)", lambda h, p: h.calloc("a", 4), TypeError, "nmemb"),
    ("realloc(int, 4)", lambda h, p: h.realloc(5, 4), TypeError, "Pointer"),
    ("realloc(p)", lambda h, p: h.realloc(p), TypeError, "2 arguments"),
    ("realloc(p, -3)", lambda h, p: h.realloc(p, -3), ValueError, "fishy"),
    ("free(int)", lambda h, p: h.free(0x10010), TypeError, "Pointer"),
    ("free(None)", lambda h, p: h.free(None), TypeError, "heapviz.NULL"),
    ("free(str)", lambda h, p: h.free("p"), TypeError, "Pointer"),
    ("p['a']", lambda h, p: p["a"], TypeError, "index must be an int"),
    ("p[0] = 'ab'", lambda h, p: p.__setitem__(0, "ab"), TypeError, "int"),
    ("p[0] = 256", lambda h, p: p.__setitem__(0, 256), OverflowError, "does not fit"),
    ("p[0] = -129", lambda h, p: p.cast("char").__setitem__(0, -129), OverflowError, "fit"),
    ("int p[0] = 2**40", lambda h, p: p.cast("int").__setitem__(0, 2**40), OverflowError, ""),
    ("double p[0] = 'x'", lambda h, p: p.cast("double").__setitem__(0, "x"), TypeError, ""),
    ("void* p[0] = 5", lambda h, p: p.cast("void*").__setitem__(0, 5), TypeError, "Pointer"),
    ("void p[0]", lambda h, p: p.cast("void")[0], TypeError, "void pointer"),
    ("cast(3)", lambda h, p: p.cast(3), TypeError, "type name"),
    ("cast('foo')", lambda h, p: p.cast("foo"), ValueError, "unknown C type"),
    ("cast('int[x]')", lambda h, p: p.cast("int[x]"), ValueError, "array size"),
    ("p[0:4:2]", lambda h, p: p[0:4:2], ValueError, "no step"),
    ("p[4:0]", lambda h, p: p[4:0], ValueError, "backwards"),
    ("p[0:] read", lambda h, p: p[0:], ValueError, "needs an end"),
    ("p[0:2] = b'abc'", lambda h, p: p.__setitem__(slice(0, 2), b"abc"), ValueError, "holds"),
    ("del p[0]", lambda h, p: p.__delitem__(0), TypeError, "free()"),
    ("p.read(-1)", lambda h, p: p.read(-1), ValueError, ">= 0"),
    ("p.read('x')", lambda h, p: p.read("x"), TypeError, "int"),
    ("p.write(5)", lambda h, p: p.write(5), TypeError, "bytes or str"),
    ("p + p", lambda h, p: p + p, TypeError, "two pointers"),
    ("p + 1.5", lambda h, p: p + 1.5, TypeError, ""),
    ("p - 'a'", lambda h, p: p - "a", TypeError, ""),
    ("p - q (types)", lambda h, p: p.cast("int") - p, TypeError, "same type"),
    ("Pointer(-1)", lambda h, p: Pointer(-1), ValueError, "negative"),
    ("Pointer('x')", lambda h, p: Pointer("x"), TypeError, "int address"),
    ("Pointer(2**65)", lambda h, p: Pointer(2**65), OverflowError, "64 bits"),
    ("sbrk('x')", lambda h, p: h.sbrk("x"), TypeError, "int"),
    ("sbrk(2**40)", lambda h, p: h.sbrk(2**40), MemoryError, "cannot grow"),
    ("sbrk(-10**6)", lambda h, p: h.sbrk(-(10**6)), ValueError, "break"),
    ("mmap(0)", lambda h, p: h.mmap(0), ValueError, "positive"),
    ("munmap(p)", lambda h, p: h.munmap(p), ValueError, "no mapping"),
    ("strcpy(5, 'a')", lambda h, p: heapviz.strcpy(5, "a"), TypeError, "destination"),
    ("strlen(5)", lambda h, p: heapviz.strlen(5), TypeError, "source"),
    # one size rule (heapviz.sizes): a negative size is fishy for memcpy as for malloc
    ("memcpy(p, p+1, -1)", lambda h, p: heapviz.memcpy(p, p + 1, -1), heapviz.FishyValue,
     "fishy (possibly negative) value: -1"),
    ("malloc(-1)", lambda h, p: h.malloc(-1), heapviz.FishyValue,
     "fishy (possibly negative) value: -1"),
    ("memset(p, 0, -1)", lambda h, p: heapviz.memset(p, 0, -1), heapviz.FishyValue,
     "fishy (possibly negative) value: -1"),
    ("memset(p, 0, 'a')", lambda h, p: heapviz.memset(p, 0, "a"), TypeError, "int"),
    ("Heap(policy='fastest')", lambda h, p: Heap(policy="fastest"), ValueError, "'first'"),
    ("Heap(order='random')", lambda h, p: Heap(order="random"), ValueError, "'lifo'"),
    ("Heap(coalesce=1)", lambda h, p: Heap(coalesce=1), ValueError, "'immediate'"),
    ("Heap(checks='loose')", lambda h, p: Heap(checks="loose"), ValueError, "'strict'"),
    ("Heap(align=3)", lambda h, p: Heap(align=3), ValueError, "4, 8, 16"),
    ("Heap(size=-1)", lambda h, p: Heap(size=-1), ValueError, "at least"),
    ("Heap(size='big')", lambda h, p: Heap(size="big"), TypeError, "int"),
    ("Heap(size>max)", lambda h, p: Heap(size=1 << 20, max_size=1 << 16), ValueError,
     "reservation"),
    ("Heap(base=3)", lambda h, p: Heap(base=0x10001), ValueError, "page"),
    ("Heap(bogus=1)", lambda h, p: Heap(bogus=1), TypeError, ""),
    ("sizeof('struct s')", lambda h, p: heapviz.sizeof("struct s"), ValueError, "struct"),
    # one size rule: memcpy's and memset's n as malloc's size (valgrind's "fishy")
    ("memcpy(p, p+1, -1) fishy", lambda h, p: heapviz.memcpy(p, p + 1, -1),
     heapviz.FishyValue, "Argument 'n' of function memcpy"),
    ("memset(p, 0, -2) fishy", lambda h, p: heapviz.memset(p, 0, -2), heapviz.FishyValue,
     "Argument 'n' of function memset"),
    ("memset(p, 'a', 4)", lambda h, p: heapviz.memset(p, "a", 4), TypeError, "c must be an int"),
    ("memcpy(p, p)", lambda h, p: heapviz.memcpy(p, p), TypeError, "n"),
    # the binding's private methods name the call and the argument too
    ("_events('a', 1)", lambda h, p: h._events("a", 1), TypeError, "start must be an int"),
    ("_events(1)", lambda h, p: h._events(1), TypeError, "2 arguments (1 given)"),
    ("_event_records(-1, 2)", lambda h, p: h._event_records(-1, 2), OverflowError, "start"),
    ("_event_record(None)", lambda h, p: h._event_record(None), TypeError, "seq"),
    ("_record(1)", lambda h, p: h._record(1), TypeError, "7 arguments (1 given)"),
    ("_record(999, ...)", lambda h, p: h._record(999, 0, 0, 0, 0, 0, 0), ValueError,
     "no event kind"),
    ("_free_list(99)", lambda h, p: h._free_list(99), IndexError, "no free list 99"),
    ("_free_list_records('x')", lambda h, p: h._free_list_records("x"), TypeError,
     "list must be an int"),
    ("_block('x', True)", lambda h, p: h._block("x", True), TypeError, "addr must be an int"),
    ("_block_record(1)", lambda h, p: h._block_record(1), TypeError, "2 arguments"),
    ("_raw_read(8, 4)", lambda h, p: h._raw_read(8, 4), ValueError, "0x8..+4 is not mapped"),
    ("_shadow(0, -1)", lambda h, p: h._shadow(0, -1), OverflowError, "n = -1"),
    ("_intern(1, 2, 'f')", lambda h, p: h._intern(1, 2, "f"), TypeError, "file must be a str"),
    ("_site_info('x')", lambda h, p: h._site_info("x"), TypeError, "site must be an int"),
    ("_set_step_hook(5)", lambda h, p: h._set_step_hook(5), TypeError, "callable or None"),
    ("_frame_push(5)", lambda h, p: h._frame_push(5), TypeError, "name must be a str"),
    ("_frame_pop()", lambda h, p: h._frame_pop(), RuntimeError, "no frame is active"),
    ("_checks = 7", lambda h, p: setattr(h, "_checks", 7), ValueError, "0, 1 or 2"),
    ("Block(1)", lambda h, p: heapviz.Block(1), TypeError, "missing field 'size'"),
]


@pytest.mark.parametrize("desc,call,exc,msg", CASES, ids=[c[0] for c in CASES])
def test_wrong_call_raises(desc, call, exc, msg):
    with Heap() as h:
        p = h.malloc(16)
        p[0:16] = bytes(16)
        before = [(b.address, b.size, b.state) for b in h.blocks()]
        with pytest.raises(exc) as info:
            call(h, p)
        assert msg in str(info.value), f"{desc}: {info.value}"
        # the heap is intact and still usable
        assert h.check() == []
        assert [(b.address, b.size, b.state) for b in h.blocks()] == before
        q = h.malloc(8)
        assert q and h.check() == []
        h.free(q)
        h.free(p)
