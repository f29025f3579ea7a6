"""Leaks, classified as valgrind's memcheck does, and the moment each one happens.

Roots are the Pointers the script holds (and pointer values kept in stack objects and raw
memory); edges are pointers stored inside heap blocks.  h.leaks() returns Leak(kind,
block, size, alloc_site); close() and the end of a with block print a LEAK SUMMARY when
anything leaked; a "lost" event marks the line where the last reference was dropped.
"""

from __future__ import annotations

import contextlib
import gc
import io

import pytest

import heapviz
from heapviz import NULL, Heap, Pointer


def line_of(marker: str) -> int:
    with open(__file__) as f:
        for no, line in enumerate(f, 1):
            if f"# {marker}" in line:
                return no
    raise AssertionError(marker)


def kinds(h: Heap) -> list[tuple[str, int]]:
    return sorted((lk.kind, lk.size) for lk in h.leaks())


def lost_lines(h: Heap) -> list[int]:
    return [e.site.line for e in h.events if e.kind == "lost" and e.site is not None]


def node(h: Heap, value: int, nxt: Pointer) -> Pointer:
    n = h.malloc(16)
    n.cast("int")[0] = value
    (n + 8).cast("void*")[0] = nxt
    return n


def test_nothing_leaks_when_everything_is_freed(h: Heap) -> None:
    p = h.malloc(10)
    q = h.calloc(3, 4)
    h.free(p)
    h.free(q)
    assert h.leaks() == []
    assert lost_lines(h) == []


def test_the_four_kinds(h: Heap) -> None:
    kept = h.malloc(50)
    interior = h.malloc(100) + 10
    lost = h.malloc(10)
    del lost
    head = NULL
    for i in range(3):
        head = node(h, i, head)
    head = NULL
    assert kinds(h) == [("definitely lost", 10), ("definitely lost", 16),
                        ("indirectly lost", 16), ("indirectly lost", 16),
                        ("possibly lost", 100), ("still reachable", 50)]
    for lk in h.leaks():
        assert isinstance(lk, heapviz.Leak)
        assert lk.size == lk.block.requested
        assert lk.alloc_site is not None and lk.alloc_site.file == __file__
    del kept, interior


def test_a_lost_event_at_the_line_that_drops_the_last_reference(h: Heap) -> None:
    p = h.malloc(10)
    q = p  # a second reference: dropping one loses nothing
    p = NULL
    assert lost_lines(h) == []
    q = NULL  # drop-last
    assert lost_lines(h) == [line_of("drop-last")]
    [ev] = [e for e in h.events if e.kind == "lost"]
    block = h.leaks()[0].block
    assert ev.fields == {"payload": block.payload, "requested": 10,
                         "block": block.address, "alloc_seq": block.seq}
    del p, q


def test_derived_pointers_are_references_too(h: Heap) -> None:
    p = h.malloc(40)
    inner = (p + 8).cast("int")
    del p
    assert lost_lines(h) == []
    assert kinds(h) == [("possibly lost", 40)]
    del inner  # drop-interior
    assert lost_lines(h) == [line_of("drop-interior")]
    assert kinds(h) == [("definitely lost", 40)]


def test_no_lost_event_while_a_heap_block_points_to_it(h: Heap) -> None:
    head = node(h, 1, node(h, 2, NULL))  # the inner node's Pointer dies at once
    assert lost_lines(h) == []
    assert kinds(h) == [("still reachable", 16), ("still reachable", 16)]
    del head  # drop-head
    assert lost_lines(h) == [line_of("drop-head")]  # the head only: its node owns the rest
    assert kinds(h) == [("definitely lost", 16), ("indirectly lost", 16)]


def test_a_function_that_forgets_to_free(h: Heap) -> None:
    def work() -> None:
        buf = h.malloc(32)
        buf.write(b"x" * 32)

    work()  # call-returns
    assert lost_lines(h) == [line_of("call-returns")]


def test_no_lost_event_for_freed_blocks_or_in_off_mode(h: Heap) -> None:
    p = h.malloc(8)
    h.free(p)
    del p
    off = Heap(checks="off")
    q = off.malloc(8)
    del q
    assert [e.kind for e in off.events].count("lost") == 0
    assert lost_lines(h) == []
    with contextlib.redirect_stderr(io.StringIO()):
        off.close()


def test_realloc_keeps_the_reference(h: Heap) -> None:
    p = h.malloc(16)
    q = h.malloc(16)  # in the way: realloc moves p
    p = h.realloc(p, 500)
    p = h.realloc(p, 8)
    assert lost_lines(h) == []
    assert kinds(h) == [("still reachable", 8), ("still reachable", 16)]
    del q


def test_a_pointer_to_a_reused_block_is_not_a_root_for_the_new_block(h: Heap) -> None:
    old = h.malloc(16)
    h.free(old)
    new = h.malloc(16)
    assert int(new) == int(old)
    del new  # old's Pointer belongs to the freed allocation
    assert kinds(h) == [("definitely lost", 16)]
    del old


def test_cycles_are_lost_together(h: Heap) -> None:
    a = h.malloc(8).cast("void*")
    b = h.malloc(8).cast("void*")
    a[0] = b
    b[0] = a
    del a, b
    assert kinds(h) == [("definitely lost", 8), ("indirectly lost", 8)]


def test_an_interior_pointer_inside_the_heap_makes_a_block_possibly_lost(h: Heap) -> None:
    holder = h.malloc(8).cast("void*")
    target = h.malloc(64)
    holder[0] = target + 16
    del target
    assert kinds(h) == [("possibly lost", 64), ("still reachable", 8)]
    del holder


def test_pointers_kept_in_raw_memory_are_roots(h: Heap) -> None:
    page = h.mmap(4096).cast("void*")
    page[0] = h.malloc(24)
    assert kinds(h) == [("still reachable", 24)]
    del page


def test_mmapped_chunks_leak_too(h: Heap) -> None:
    big = h.malloc(200_000)
    del big
    gc.collect()
    assert kinds(h) == [("definitely lost", 200_000)]


def test_the_leak_summary_at_close(capsys: pytest.CaptureFixture[str]) -> None:
    h = Heap()
    head = NULL
    for i in range(3):
        head = node(h, i, head)  # list-node
    head = NULL
    lost = h.malloc(10)  # ten-bytes
    lost = NULL
    reach = h.malloc(50)
    h.close()
    out = capsys.readouterr().err.splitlines()
    text = "\n".join(out)
    assert all(line.startswith("==heapviz==") for line in out)
    assert "HEAP SUMMARY:" in text
    assert "in use at exit: 108 bytes in 5 blocks" in text
    assert "total heap usage: 5 allocs, 0 frees, 108 bytes allocated" in text
    assert "10 bytes in 1 blocks are definitely lost in loss record 1 of 3" in text
    assert "32 bytes in 2 blocks are indirectly lost in loss record 2 of 3" in text
    assert "48 (16 direct, 32 indirect) bytes in 1 blocks are definitely lost in loss " \
           "record 3 of 3" in text
    assert f"(test_leaks.py:{line_of('ten-bytes')})" in text
    assert "LEAK SUMMARY:" in text
    assert "   definitely lost: 26 bytes in 2 blocks" in text
    assert "   indirectly lost: 32 bytes in 2 blocks" in text
    assert "     possibly lost: 0 bytes in 0 blocks" in text
    assert "   still reachable: 50 bytes in 1 blocks" in text
    # after close, h.leaks() still tells what close() found
    assert sorted(lk.kind for lk in h.leaks()) == ["definitely lost"] * 2 + \
        ["indirectly lost"] * 2 + ["still reachable"]
    del reach, lost


def test_with_exit_prints_the_summary_only_when_something_leaked(
        capsys: pytest.CaptureFixture[str]) -> None:
    with Heap() as h:
        kept = h.malloc(8)  # still reachable is not a leak
    assert capsys.readouterr().err == ""
    with Heap() as h:
        h.malloc(8)  # lost at once
    assert "definitely lost: 8 bytes in 1 blocks" in capsys.readouterr().err
    del kept


def test_leak_summary_with_every_kind_shown() -> None:
    from heapviz.leaks import KINDS, leak_summary

    h = Heap()
    kept = h.malloc(50)
    text = leak_summary(h, kinds=KINDS)
    assert "50 bytes in 1 blocks are still reachable in loss record 1 of 1" in text
    assert leak_summary(h, only_if_leaked=True) == ""
    h.close()
    del kept
