"""Memory errors: detection, the facts each error carries, and valgrind-style reports.

The corpus (test_errors_corpus.py) runs whole scripts; these tests pin the details: every
attribute, the report's lines, the shadow state behind UninitializedRead, the first bad
byte of a many-byte access, h.errors() and the error events.
"""

from __future__ import annotations

import re

import pytest

import heapviz
from heapviz import NULL, Heap, Pointer, sizeof

HERE = __file__.rsplit("/", 1)[-1]


def line_of(marker: str) -> int:
    """The line of this file that carries `marker` in a comment."""
    with open(__file__) as f:
        for no, line in enumerate(f, 1):
            if line.rstrip().endswith(f"# {marker}"):
                return no
    raise AssertionError(marker)


# --- the classes ---------------------------------------------------------------------


def test_every_error_is_a_heap_error() -> None:
    for cls in (heapviz.SegmentationFault, heapviz.BufferOverflow, heapviz.UninitializedRead,
                heapviz.UseAfterFree, heapviz.DoubleFree, heapviz.InvalidFree,
                heapviz.UseAfterReturn, heapviz.OverlappingCopy, heapviz.FishyValue,
                heapviz.HeapCorruption):
        assert issubclass(cls, heapviz.HeapError)
    assert issubclass(heapviz.FishyValue, ValueError)


def test_an_overflow_carries_every_fact(h: Heap) -> None:
    data = h.malloc(100 * sizeof("int")).cast("int")  # alloc-here
    with pytest.raises(heapviz.BufferOverflow) as info:
        data[100] = 0  # overflow-here
    err = info.value
    assert err.address == int(data) + 400
    assert err.access_size == 4
    assert err.block is not None and err.block.payload == int(data)
    assert err.block.requested == 400
    assert err.alloc_site is not None and err.alloc_site.line == line_of("alloc-here")
    assert err.free_site is None
    assert err.site is not None and err.site.line == line_of("overflow-here")
    assert err.site.file == __file__
    assert str(err) == err.report
    lines = err.report.splitlines()
    assert lines[0] == "Invalid write of size 4"
    assert lines[1] == f"   at test_an_overflow_carries_every_fact ({HERE}:{err.site.line})"
    assert lines[2] == f" Address {err.address:#x} is 0 bytes after a block of size 400 alloc'd"
    assert lines[3] == f"   at test_an_overflow_carries_every_fact ({HERE}:" \
                       f"{err.alloc_site.line})"
    assert lines[4] == ""
    assert "Allocate enough" in lines[5] and lines[5].endswith(".")
    assert h.errors() == [err]


def test_the_report_has_a_backtrace_of_the_students_calls(h: Heap) -> None:
    p = h.malloc(4).cast("int")

    def inner() -> None:
        p[1] = 0  # inner-write

    def outer() -> None:
        inner()  # outer-call

    with pytest.raises(heapviz.BufferOverflow) as info:
        outer()
    lines = info.value.report.splitlines()
    assert lines[1] == f"   at test_the_report_has_a_backtrace_of_the_students_calls." \
                       f"<locals>.inner ({HERE}:{line_of('inner-write')})"
    assert lines[2].startswith("   by ") and f"({HERE}:{line_of('outer-call')})" in lines[2]


def test_use_after_free_names_the_free_and_the_malloc(h: Heap) -> None:
    p = h.malloc(10)  # uaf-malloc
    h.free(p)  # uaf-free
    with pytest.raises(heapviz.UseAfterFree) as info:
        p[3]  # uaf-read
    err = info.value
    assert err.address == int(p) + 3 and err.access_size == 1
    assert err.alloc_site.line == line_of("uaf-malloc")
    assert err.free_site.line == line_of("uaf-free")
    assert err.site.line == line_of("uaf-read")
    text = err.report
    assert "Invalid read of size 1" in text
    assert f"Address {int(p) + 3:#x} is 3 bytes inside a block of size 10 free'd" in text
    assert text.index("free'd") < text.index("Block was alloc'd at")


def test_use_after_free_even_after_reuse(h: Heap) -> None:
    old = h.malloc(32)
    h.free(old)
    new = h.malloc(32)
    assert int(new) == int(old)  # the same memory, a new allocation
    new[0] = 1
    with pytest.raises(heapviz.UseAfterFree) as info:
        old[0] = 2
    assert new[0] == 1  # strict: nothing was written
    assert "reused since" in info.value.report


def test_old_pointer_after_realloc_moved(h: Heap) -> None:
    p = h.malloc(16)
    q = h.malloc(16)
    r = h.realloc(p, 1000)  # moved-here
    assert int(r) != int(p)
    with pytest.raises(heapviz.UseAfterFree) as info:
        p[0]
    assert info.value.free_site.line == line_of("moved-here")
    assert "realloc" in info.value.report
    h.free(q)
    h.free(r)


def test_double_free_names_both_frees(h: Heap) -> None:
    p = h.malloc(10)
    h.free(p)  # first-free
    with pytest.raises(heapviz.DoubleFree) as info:
        h.free(p)  # second-free
    err = info.value
    assert err.site.line == line_of("second-free")
    assert err.free_site.line == line_of("first-free")
    assert err.report.startswith("Invalid free() / delete / delete[] / realloc()")
    assert f"({HERE}:{line_of('first-free')})" in err.report
    assert f"({HERE}:{line_of('second-free')})" in err.report
    assert h.check() == []


@pytest.mark.parametrize("how, words", [
    ("interior", "is 200 bytes inside a block of size 400 alloc'd"),
    ("wild", "is not stack'd, malloc'd or (recently) free'd"),
    ("mmap", "is in a rw- anonymous segment"),
    ("sbrk", "is in the brk data segment"),
    ("int-of-interior", "is 8 bytes inside a block of size 400 alloc'd"),
])
def test_invalid_free_says_where_the_address_is(h: Heap, how: str, words: str) -> None:
    data = h.malloc(400)
    p = {"interior": lambda: data + 200, "wild": lambda: Pointer(0x87654321),
         "mmap": lambda: h.mmap(100), "sbrk": lambda: h.sbrk(64),
         "int-of-interior": lambda: Pointer(int(data) + 8)}[how]()
    before = h.blocks()
    with pytest.raises(heapviz.InvalidFree) as info:
        h.free(p)
    assert words in info.value.report
    assert info.value.address == int(p)
    assert h.blocks() == before
    with pytest.raises(heapviz.InvalidFree):
        h.realloc(p, 10)


def test_free_of_stack_memory(h: Heap) -> None:
    with h.frame("main") as f:
        x = f.array("int", 10)
        with pytest.raises(heapviz.InvalidFree) as info:
            h.free(x)
    assert "is on the stack, in the frame of main()" in info.value.report
    assert "only memory from malloc()" in info.value.report


@pytest.mark.parametrize("make, advice", [
    (lambda: NULL.cast("int"), "The pointer is NULL"),
    (lambda: Pointer(type="int"), "never given a value"),
    (lambda: Pointer(0x87654321, "int"), "made up"),
])
def test_segmentation_faults(h: Heap, make: object, advice: str) -> None:
    p = make()  # type: ignore[operator]
    with pytest.raises(heapviz.SegmentationFault) as info:
        p[0] = 1  # segv-here
    err = info.value
    assert err.address == int(p)
    assert err.site.line == line_of("segv-here")
    assert "Process terminating with default action of signal 11 (SIGSEGV)" in err.report
    assert f"Access not within mapped region at address {int(p):#x}" in err.report
    assert advice in err.report
    assert h.errors() == [err]  # recorded on the script's heap, though p has none
    assert [e.kind for e in h.events].count("error") == 1


def test_uninitialized_pointer_reads_like_valgrind(h: Heap) -> None:
    x = Pointer(type="int")
    with pytest.raises(heapviz.SegmentationFault) as info:
        x[0]
    assert info.value.report.startswith("Use of uninitialised value of size 8")
    assert "Invalid read of size 4" in info.value.report


def test_segv_with_no_heap_open_still_names_the_line() -> None:
    with pytest.raises(heapviz.SegmentationFault) as info:
        NULL[0]  # no-heap
    assert info.value.site is not None
    assert info.value.site.line == line_of("no-heap")


def test_far_out_of_bounds_is_an_overflow_of_its_block(h: Heap) -> None:
    p = h.malloc(16).cast("int")
    with pytest.raises(heapviz.BufferOverflow) as info:
        p[100000] = 1
    assert "is 399984 bytes after a block of size 16" in info.value.report


def test_use_after_free_of_an_mmapped_chunk(h: Heap) -> None:
    big = h.malloc(200_000)
    big[0] = 1
    h.free(big)  # munmapped: the memory is gone
    with pytest.raises(heapviz.UseAfterFree) as info:
        big[0]
    assert "is 0 bytes inside a block of size 200000 free'd" in info.value.report


# --- many-byte accesses: the first bad byte -----------------------------------------


@pytest.mark.parametrize("access", ["write", "read", "slice", "memset", "memcpy-dst",
                                    "memcpy-src"])
def test_a_long_access_reports_its_first_bad_byte(h: Heap, access: str) -> None:
    p = h.malloc(10)
    src = h.malloc(32)
    src.write(bytes(32))
    run = {"write": lambda: p.write(b"x" * 16), "read": lambda: p.read(16),
           "slice": lambda: p[0:16], "memset": lambda: heapviz.memset(p, 0, 16),
           "memcpy-dst": lambda: heapviz.memcpy(p, src, 16),
           "memcpy-src": lambda: heapviz.memcpy(src, p, 16)}[access]
    p.write(bytes(10))
    with pytest.raises(heapviz.BufferOverflow) as info:
        run()
    assert info.value.address == int(p) + 10
    assert "is 0 bytes after a block of size 10" in info.value.report
    assert info.value.access_size == 16


def test_an_int_pointer_into_free_memory(h: Heap) -> None:
    free = h.blocks()[-1]
    assert free.state == "free"
    with pytest.raises(heapviz.UseAfterFree) as info:
        Pointer(free.payload + 32)[0] = 1
    assert f"is {free.payload + 32 - free.address} bytes inside an unallocated block of " \
           f"size {free.size}" in info.value.report


# --- uninitialized reads: the shadow state -----------------------------------------


def test_malloc_is_uninitialized_calloc_is_not(h: Heap) -> None:
    p = h.malloc(8).cast("int")
    with pytest.raises(heapviz.UninitializedRead) as info:
        p[1]
    assert info.value.address == int(p) + 4
    assert "Uninitialised value was created by a heap allocation" in info.value.report
    q = h.calloc(2, 4).cast("int")
    assert q[0:2] == [0, 0]


def test_writes_memset_and_memcpy_initialize(h: Heap) -> None:
    p = h.malloc(16)
    p[0] = 1
    assert p[0] == 1
    with pytest.raises(heapviz.UninitializedRead):
        p[1]
    heapviz.memset(p, 7, 8)
    assert p.read(8) == bytes([7] * 8)
    q = h.malloc(16)
    heapviz.memcpy(q, p, 16)  # copies the state too: no error while copying
    assert q.read(8) == bytes([7] * 8)
    with pytest.raises(heapviz.UninitializedRead) as info:
        q[8]  # p[8] was never written, so neither is q[8]
    assert info.value.address == int(q) + 8


def test_a_partly_written_read_names_the_first_uninitialized_byte(h: Heap) -> None:
    p = h.malloc(16)
    p.write(b"abcd")
    with pytest.raises(heapviz.UninitializedRead) as info:
        p.read(16)
    assert info.value.address == int(p) + 4


def test_realloc_keeps_state_and_the_new_bytes_are_uninitialized(h: Heap) -> None:
    a = h.malloc(16)
    a.write(bytes(range(16)))
    a = h.realloc(a, 64)  # grow-here
    assert a.read(16) == bytes(range(16))
    with pytest.raises(heapviz.UninitializedRead) as info:
        a[20]
    assert info.value.alloc_site.line == line_of("grow-here")
    assert "realloc" in info.value.report
    b = h.malloc(8)  # in the way: the next realloc moves
    a = h.realloc(a, 4096)
    assert a.read(16) == bytes(range(16))
    with pytest.raises(heapviz.UninitializedRead):
        a[16]
    h.free(b)


def test_shrink_then_grow_forgets_the_old_bytes(h: Heap) -> None:
    a = h.malloc(32)
    a.write(b"x" * 32)
    a = h.realloc(a, 8)
    a = h.realloc(a, 32)
    assert a.read(8) == b"x" * 8
    with pytest.raises(heapviz.UninitializedRead):
        a[8]


def test_string_helpers_check_every_byte(h: Heap) -> None:
    s = h.malloc(8)
    heapviz.strcpy(s, "1234567")
    assert heapviz.strlen(s) == 7
    with pytest.raises(heapviz.BufferOverflow):
        heapviz.strcat(s, "8")  # the NUL lands one past the end
    u = h.malloc(8)  # never written: no NUL to stop at
    with pytest.raises(heapviz.UninitializedRead):
        heapviz.strlen(u)
    with pytest.raises(heapviz.BufferOverflow):
        heapviz.strncpy(h.malloc(4), "abc", 5)


# --- sizes -------------------------------------------------------------------------


@pytest.mark.parametrize("call, words", [
    (lambda h: h.malloc(-2), "Argument 'size' of function malloc has a fishy (possibly "
                             "negative) value: -2"),
    (lambda h: h.calloc(-1, 4), "Argument 'nmemb' of function calloc has a fishy"),
    (lambda h: h.calloc(4, -1), "Argument 'size' of function calloc has a fishy"),
    (lambda h: h.realloc(h.malloc(4), -3), "Argument 'size' of function realloc has a "
                                           "fishy (possibly negative) value: -3"),
])
def test_fishy_sizes(h: Heap, call: object, words: str) -> None:
    with pytest.raises(heapviz.FishyValue) as info:
        call(h)  # type: ignore[operator]
    assert words in info.value.report
    assert isinstance(info.value, ValueError)


def test_calloc_overflow_is_reported_and_returns_null(h: Heap,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    p = h.calloc(1 << 62, 16)  # calloc-overflow
    assert p == NULL
    [err] = h.errors()
    assert isinstance(err, heapviz.FishyValue)
    assert err.site.line == line_of("calloc-overflow")
    assert "4611686018427387904 * 16 = 73786976294838206464 does not fit" in err.report
    assert "==heapviz== " in capsys.readouterr().err


def test_overlapping_memcpy(h: Heap) -> None:
    p = h.malloc(64)
    p.write(bytes(64))
    with pytest.raises(heapviz.OverlappingCopy) as info:
        heapviz.memcpy(p + 8, p, 32)
    assert info.value.report.startswith(
        f"Source and destination overlap in memcpy({int(p) + 8:#x}, {int(p):#x}, 32)")
    assert "memmove()" in info.value.report
    heapviz.memcpy(p + 32, p, 32)  # touching, not overlapping: fine


# --- records -----------------------------------------------------------------------


def test_errors_lists_every_error_and_each_is_an_event(h: Heap) -> None:
    p = h.malloc(4)
    kinds = []
    for bad in (lambda: p[4], lambda: h.free(p + 1), lambda: NULL[0], lambda: p[0]):
        with pytest.raises(heapviz.HeapError) as info:
            bad()
        kinds.append(type(info.value))
    assert [type(e) for e in h.errors()] == kinds
    events = [e for e in h.events if e.kind == "error"]
    assert [e.address for e in events] == [e.address for e in h.errors()]
    for ev, err in zip(events, h.errors(), strict=True):
        assert ev.site == err.site
        assert h._site_info(ev.b)[0] == err.report  # the report text, for the viewer
    assert h.stats().n_errors >= 0


def test_strict_errors_leave_the_heap_as_it_was(h: Heap) -> None:
    a = h.malloc(24)
    b = h.malloc(24)
    a.write(bytes(24))
    h.free(b)
    heap_bytes = h._raw_read(0x10000, int(h.brk) - 0x10000)
    shadow = h._shadow(0x10000, int(h.brk) - 0x10000)
    for bad in (lambda: a.write(b"x" * 40), lambda: (a - 4).cast("int").__setitem__(0, 0),
                lambda: b.write(b"x"), lambda: h.free(b), lambda: h.free(a + 8),
                lambda: heapviz.strcpy(a, "y" * 30), lambda: heapviz.memset(a, 1, 25)):
        with pytest.raises(heapviz.HeapError):
            bad()
        assert h._raw_read(0x10000, int(h.brk) - 0x10000) == heap_bytes
        assert h._shadow(0x10000, int(h.brk) - 0x10000) == shadow
        assert h.check() == []


def test_reports_are_plain_text_with_one_sentence_of_advice(h: Heap) -> None:
    p = h.malloc(4)
    h.free(p)
    with pytest.raises(heapviz.UseAfterFree) as info:
        p[0]
    body, advice = info.value.report.split("\n\n")
    assert re.match(r"Invalid read of size 1\n   at ", body)
    assert advice.count(". ") <= 2 and advice.endswith(".")
    assert "\x1b" not in info.value.report
