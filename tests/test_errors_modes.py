"""checks="strict", "report" and "off": what each mode does with each memory error.

- strict: raise at the faulting call; the heap stays as it was.
- report: record and print the error, then go on as C would: an overflow really lands in
  the next block's header (inside the arena) and the allocator's own checks later raise
  HeapCorruption the way glibc aborts; a double free may corrupt the free list and be
  caught at a later operation.  A SegmentationFault always raises.
- off: only what keeps the process safe (SegmentationFault, HeapCorruption).
In no mode does anything touch memory outside the arena (the fuzz tests at the end).
"""

from __future__ import annotations

import contextlib
import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

import heapviz
from heapviz import NULL, Heap, Pointer

MODES = ("strict", "report", "off")


@dataclass
class Case:
    """One error: how to provoke it, its class, and what C would do after it."""

    name: str
    setup: Callable[[Heap], dict[str, Any]]
    act: Callable[[Heap, dict[str, Any]], Any]
    cls: type[heapviz.HeapError]
    # report mode: what the C program meets after the error, if it dies of it
    then: type[heapviz.HeapError] | None = None


def _two_blocks(h: Heap) -> dict[str, Any]:
    a = h.malloc(24)
    b = h.malloc(24)
    a.write(bytes(range(24)))
    b.write(bytes(24))
    return {"a": a, "b": b}


def _freed(h: Heap) -> dict[str, Any]:
    a = h.malloc(24)
    guard = h.malloc(24)
    a.write(b"x" * 24)
    h.free(a)
    return {"a": a, "guard": guard}


def _frame_gone(h: Heap) -> dict[str, Any]:
    with h.frame("f") as f:
        x = f.array("int", 4)
        x[0:4] = [1, 2, 3, 4]
    return {"x": x}


CASES = [
    Case("overflow-write", _two_blocks, lambda h, v: v["a"].__setitem__(24, 0x41),
         heapviz.BufferOverflow),
    Case("overflow-read", _two_blocks, lambda h, v: v["a"][-1], heapviz.BufferOverflow),
    Case("uninitialized", lambda h: {"p": h.malloc(8)}, lambda h, v: v["p"][3],
         heapviz.UninitializedRead),
    Case("use-after-free", _freed, lambda h, v: v["a"][20], heapviz.UseAfterFree),
    Case("double-free", _freed, lambda h, v: h.free(v["a"]), heapviz.DoubleFree,
         heapviz.HeapCorruption),  # the list insert finds the block already there
    Case("interior-free", _two_blocks, lambda h, v: h.free(v["a"] + 8),
         heapviz.InvalidFree),
    Case("wild-free", lambda h: {}, lambda h, v: h.free(Pointer(0x87654321)),
         heapviz.InvalidFree),
    Case("use-after-return", _frame_gone, lambda h, v: v["x"][1], heapviz.UseAfterReturn),
    Case("overlap", _two_blocks, lambda h, v: heapviz.memcpy(v["a"] + 4, v["a"], 16),
         heapviz.OverlappingCopy),
    Case("fishy", lambda h: {}, lambda h, v: h.malloc(-8), heapviz.FishyValue),
    Case("null", lambda h: {}, lambda h, v: NULL[0], heapviz.SegmentationFault),
    Case("wild", lambda h: {}, lambda h, v: Pointer(0x87654321)[0],
         heapviz.SegmentationFault),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("mode", MODES)
def test_each_error_in_each_mode(case: Case, mode: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    h = Heap(checks=mode)
    v = case.setup(h)
    fatal = case.cls is heapviz.SegmentationFault
    arena = h._raw_read(0x10000, int(h.brk) - 0x10000)
    if mode == "strict" or fatal:
        with pytest.raises(case.cls):
            case.act(h, v)
        assert [type(e) for e in h.errors()] == [case.cls]
        if mode != "off" and case.name not in ("overflow-write", "overlap"):
            assert h._raw_read(0x10000, int(h.brk) - 0x10000) == arena
    elif mode == "report" and case.then is not None:
        with pytest.raises(case.then):
            case.act(h, v)
        assert [type(e) for e in h.errors()] == [case.cls, case.then]
    else:
        case.act(h, v)  # C goes on
        if mode == "report":
            assert [type(e) for e in h.errors()] == [case.cls]
            assert "==heapviz== " in capsys.readouterr().err
        else:
            assert h.errors() == []
            assert capsys.readouterr().err == ""
    drawn = [e for e in h.events if e.kind == "error"]
    assert len(drawn) == len(h.errors())
    if mode == "strict":
        assert h.check() == []
    with contextlib.redirect_stderr(io.StringIO()):
        h.close()


def test_strict_leaves_the_heap_unchanged_by_every_error() -> None:
    for case in CASES:
        h = Heap()
        v = case.setup(h)
        arena = h._raw_read(0x10000, int(h.brk) - 0x10000)
        shadow = h._shadow(0x10000, int(h.brk) - 0x10000)
        blocks = h.blocks()
        with pytest.raises(case.cls):
            case.act(h, v)
        assert h._raw_read(0x10000, int(h.brk) - 0x10000) == arena, case.name
        assert h._shadow(0x10000, int(h.brk) - 0x10000) == shadow, case.name
        assert h.blocks() == blocks, case.name
        assert h.check() == [], case.name
        h.close()


# --- report: C goes on, and the damage is real ------------------------------------


def _report_heap(**kw: Any) -> Heap:
    return Heap(checks="report", **kw)


def test_an_overflow_lands_in_the_next_header_then_free_aborts(
        capsys: pytest.CaptureFixture[str]) -> None:
    h = _report_heap()
    a = h.malloc(8)
    b = h.malloc(8)
    b_header = int(b) - h.header_size
    heapviz.strcpy(a, "AAAAAAAAAAAAAAAAAAAAAAAAAAA")  # 28 bytes into 8
    assert h._raw_read(b_header, 4) == b"AAAA"  # the header really was overwritten
    assert h.check() != []
    [overflow] = h.errors()
    assert isinstance(overflow, heapviz.BufferOverflow)
    assert overflow.address == int(a) + 8
    assert "overwrites" in overflow.report and "metadata" in overflow.report
    with pytest.raises(heapviz.HeapCorruption) as info:
        h.free(a)
    err = info.value
    assert err.report.startswith("free(): invalid next size (fast)")
    assert "signal 6 (SIGABRT)" in err.report
    assert "Most likely cause: the BufferOverflow" in err.report
    assert h.errors() == [overflow, err]
    assert "==heapviz== Invalid write of size 1" in capsys.readouterr().err
    h.close()


def test_an_overwritten_own_header_is_an_invalid_size() -> None:
    h = _report_heap()
    a = h.malloc(24)
    h.malloc(24)
    (a - 4).cast("unsigned int")[0] = 0x7  # size 0
    with pytest.raises(heapviz.HeapCorruption) as info:
        h.free(a)
    assert info.value.report.startswith("free(): invalid size")
    h.close()


@pytest.mark.parametrize("policy, order", [("first", "lifo"), ("best", "lifo"),
                                           ("next", "lifo"), ("first", "fifo"),
                                           ("segregated", "address")])
def test_a_double_free_corrupts_the_list_and_a_later_malloc_aborts(policy: str,
                                                                   order: str) -> None:
    h = _report_heap(policy=policy, order=order)
    a = h.malloc(16)
    g1 = h.malloc(16)
    b = h.malloc(16)
    g2 = h.malloc(16)
    with contextlib.redirect_stderr(io.StringIO()):
        h.free(a)
        h.free(b)
        h.free(a)  # reported, and done as a trusting free would
        assert h.check() != []  # a is on the list twice
        with pytest.raises(heapviz.HeapCorruption) as info:
            for _ in range(4):
                h.malloc(16)
    assert "corrupted double-linked list" in info.value.report
    assert [type(e) for e in h.errors()] == [heapviz.DoubleFree, heapviz.HeapCorruption]
    del g1, g2
    h.close()


def test_a_double_free_next_to_its_block_is_caught_at_once() -> None:
    h = _report_heap()  # address order: the list insert sees the block already there
    a = h.malloc(16)
    h.malloc(16)
    with contextlib.redirect_stderr(io.StringIO()):
        h.free(a)
        with pytest.raises(heapviz.HeapCorruption) as info:
            h.free(a)
    assert "double free or corruption" in info.value.report
    h.close()


@pytest.mark.parametrize("policy", ["first", "next", "best", "segregated", "buddy"])
def test_a_double_free_of_a_coalesced_block_is_caught_at_the_free(policy: str) -> None:
    h = _report_heap(policy=policy)
    a = h.malloc(16)
    b = h.malloc(16)
    h.malloc(16)
    with contextlib.redirect_stderr(io.StringIO()):
        h.free(b)
        h.free(a)  # a swallows b
        assert h.check() == []
        with pytest.raises(heapviz.HeapCorruption):
            h.free(b)  # glibc: double free or corruption (!prev)
    h.close()


def test_a_write_after_free_damages_the_links_then_malloc_aborts() -> None:
    h = _report_heap(order="lifo")
    a = h.malloc(32)
    h.malloc(32)
    h.free(a)
    with contextlib.redirect_stderr(io.StringIO()):
        a.cast("long")[0] = 0x4141414141414141
        with pytest.raises(heapviz.HeapCorruption):
            h.malloc(32)
    h.close()


def test_an_overflow_running_off_the_heap_dies_at_the_break() -> None:
    h = _report_heap()
    p = h.malloc(3900)
    with contextlib.redirect_stderr(io.StringIO()), \
            pytest.raises(heapviz.SegmentationFault) as info:
        p.write(b"x" * 10_000)
    assert info.value.address == int(h.brk)
    assert [type(e) for e in h.errors()] == [heapviz.BufferOverflow,
                                             heapviz.SegmentationFault]
    assert h.errors()[0].address == int(p) + 3900
    h.close()


def test_use_after_return_goes_on_in_report_mode() -> None:
    h = _report_heap()
    with h.frame("f") as f:
        x = f.array("int", 4)
        x[0:4] = [1, 2, 3, 4]
    with contextlib.redirect_stderr(io.StringIO()):
        x[0] = 5  # dead stack: nothing mapped there any more
        x[0]
        with h.frame("g") as g:  # a new frame over the same memory
            y = g.array("int", 4)
            y[0:4] = [7, 7, 7, 7]
            x[2] = 9  # the dangling pointer now writes into g's local
            assert y[2] == 9
    assert {type(e) for e in h.errors()} == {heapviz.UseAfterReturn}
    h.close()


def test_each_error_context_is_reported_once(capsys: pytest.CaptureFixture[str]) -> None:
    h = _report_heap()
    p = h.malloc(4).cast("int")
    for i in range(1, 6):
        p[i] = i  # one context: five bad writes
    p[-1] = 0  # another line: another context
    assert len(h.errors()) == 2
    assert capsys.readouterr().err.count("Invalid write of size 4") == 2
    h.close()


def test_report_mode_prints_and_strict_raises_after_a_switch() -> None:
    h = Heap()
    p = h.malloc(4)
    h.checks = "report"
    with contextlib.redirect_stderr(io.StringIO()):
        p[4] = 1
    h.checks = "strict"
    with pytest.raises(heapviz.BufferOverflow):
        p[5] = 1
    assert h.checks == "strict"
    with pytest.raises(ValueError, match="strict"):
        h.checks = "loud"
    h.close()


# --- off: only safety ------------------------------------------------------------------


def test_off_mode_refuses_what_would_break_the_allocator() -> None:
    h = Heap(checks="off")
    a = h.malloc(24)
    h.malloc(24)
    h.free(a)
    h.free(a)  # the core refuses, silently
    h.free(a + 8)
    h.free(Pointer(0x87654321))
    assert h.check() == []
    assert h.errors() == []
    assert h.malloc(-1) == NULL  # as C: a huge size_t cannot be allocated
    with pytest.raises(heapviz.SegmentationFault):
        Pointer(0x87654321)[0]
    assert len(h.errors()) == 1
    h.close()


# --- nothing ever touches memory outside the arena --------------------------------------


def _fuzz(seed: int, policy: str, mode: str, steps: int = 250) -> None:
    """Random operations, many of them wrong, on one heap; C goes on after each error, and
    nothing but a HeapError ever comes out."""
    rng = random.Random(seed)
    h = Heap(checks=mode, policy=policy, order=rng.choice(["address", "lifo", "fifo"]),
             coalesce=rng.choice(["immediate", "deferred", "none"]), max_size=1 << 20,
             mmap_threshold=1 << 16)
    live: list[tuple[Any, int]] = []
    dead: list[tuple[Any, int]] = []
    for _ in range(steps):
        op = rng.random()
        try:
            if op < 0.3 or not live:
                n = rng.choice([0, 1, 8, 24, 100, 1000, 70_000])
                p = h.malloc(n)
                if p:
                    live.append((p, n))
            elif op < 0.45:
                p, n = live.pop(rng.randrange(len(live)))
                h.free(p)
                dead.append((p, n))
            elif op < 0.5 and dead:
                h.free(rng.choice(dead)[0])
            elif op < 0.62:
                p, n = rng.choice(live + dead)
                (p + rng.randrange(-64, n + 64)).write(rng.randbytes(rng.randrange(1, 64)))
            elif op < 0.67:
                Pointer(rng.randrange(0x10000, 0x12000)).write(rng.randbytes(16))
            elif op < 0.77:
                i = rng.randrange(len(live))
                m = rng.choice([0, 1, 16, 200, 5000, 80_000])
                q = h.realloc(live[i][0] + rng.choice([0, 0, 8]), m)
                if q:
                    live[i] = (q, m)
            elif op < 0.85:
                p, n = rng.choice(live + dead)
                (p + rng.randrange(-32, n + 32)).read(rng.randrange(1, 40))
            elif op < 0.9:
                h.free(Pointer(rng.randrange(0x10000, 0x12000)))
            else:
                h.check()
                h.blocks()
                h.free_list()
                h.leaks()
        except heapviz.HeapError as e:  # every call above is one C allows: only a memory
            # error may come out of it (any other exception fails the test)
            if mode == "strict":
                assert h.check() == [], f"strict left damage after {type(e).__name__}"
    h.close()


@pytest.mark.parametrize("policy", ["first", "next", "best", "worst", "segregated",
                                    "buddy"])
@pytest.mark.parametrize("mode", MODES)
def test_fuzz_never_crashes_and_strict_never_corrupts(policy: str, mode: str) -> None:
    with contextlib.redirect_stderr(io.StringIO()):
        for seed in range(3):
            _fuzz(seed, policy, mode)


def test_a_block_whose_header_was_overwritten_is_still_judged_by_its_bounds() -> None:
    h = _report_heap()
    a = h.malloc(24)
    b = h.malloc(24).cast("int")
    with contextlib.redirect_stderr(io.StringIO()):
        a.write(b"x" * 40)  # over a's footer and b's header
        assert h.check() != []
        b[2] = 5  # b was never freed: a fine access, though its header is garbage
        assert b[2] == 5
        b[-1] = 5  # the header itself: an overflow, not a use after free
    assert [type(e) for e in h.errors()] == [heapviz.BufferOverflow] * 2
    assert "is 4 bytes before a block of size 24 alloc'd" in h.errors()[1].report
    with contextlib.redirect_stderr(io.StringIO()):
        h.close()
