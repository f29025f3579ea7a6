"""Scripted sequences whose free list after each step is worked out by hand.

Layout of the default heap (align 16, a 4-byte header, a 4-byte footer): the first block
starts at offset 12 so that its payload (offset 16) is 16-aligned; the heap is 4096 bytes
and its last 4 bytes hold the epilogue header, so blocks tile [12, 4092).  A request of n
bytes needs a block of round_up(n + 8, 16) bytes (at least 16).  Offsets below are block
starts relative to the heap base.
"""

from __future__ import annotations

import pytest

from heapviz import Heap

BASE = 0x10000


def fl(h: Heap) -> list[tuple[int, int]]:
    return [(b.address - BASE, b.size) for b in h.free_list()]


def setup(policy: str, order: str = "address") -> tuple[Heap, dict[str, object]]:
    h = Heap(policy=policy, order=order)
    p = {}
    for name, n in (("a", 100), ("b", 20), ("c", 200), ("d", 20), ("e", 60), ("f", 20)):
        p[name] = h.malloc(n)
    # blocks: a@12:112 b@124:32 c@156:208 d@364:32 e@396:80 f@476:32, free @508:3584
    assert fl(h) == [(508, 3584)]
    for name in ("a", "c", "e"):
        h.free(p[name])
    assert h.check() == []
    return h, p


def test_first_fit_address_order():
    h, p = setup("first")
    assert fl(h) == [(12, 112), (156, 208), (396, 80), (508, 3584)]
    g = h.malloc(50)  # needs 64: the first block that fits is @12 (112); split 64 + 48
    assert int(g) - BASE == 16
    assert fl(h) == [(76, 48), (156, 208), (396, 80), (508, 3584)]
    h.malloc(40)  # needs 48: @76 fits exactly, no split
    assert fl(h) == [(156, 208), (396, 80), (508, 3584)]
    h.free(p["d"])  # d@364:32 merges with c@156:208 before it and e@396:80 after it
    assert fl(h) == [(156, 320), (508, 3584)]
    h.free(p["f"])  # f@476:32 merges with the 320 before it and the 3584 after it
    assert fl(h) == [(156, 3936)]
    assert h.check() == []


def test_best_fit_takes_the_smallest_that_fits():
    h, _ = setup("best")
    h.malloc(50)  # 64: candidates 112, 208, 80, 3584 -> 80 @396, remainder 16 @460
    assert fl(h) == [(12, 112), (156, 208), (460, 16), (508, 3584)]
    h.malloc(90)  # 112: exactly @12
    assert fl(h) == [(156, 208), (460, 16), (508, 3584)]


def test_worst_fit_takes_the_largest():
    h, _ = setup("worst")
    h.malloc(50)  # 64 from the 3584 @508
    assert fl(h) == [(12, 112), (156, 208), (396, 80), (572, 3520)]


def test_next_fit_continues_from_the_rover():
    h, _ = setup("next")
    # the rover stayed at the free remainder @508 after f was carved from it
    h.malloc(50)
    assert fl(h) == [(12, 112), (156, 208), (396, 80), (572, 3520)]
    h.malloc(50)  # first fit would take @12; next fit goes on from @572
    assert fl(h) == [(12, 112), (156, 208), (396, 80), (636, 3456)]


def test_lifo_order_pushes_freed_blocks_at_the_head():
    h, _ = setup("first", "lifo")
    assert fl(h) == [(396, 80), (156, 208), (12, 112), (508, 3584)]
    h.malloc(50)  # the head @396 (80) fits first
    assert [a for a, _ in fl(h)][-2:] == [12, 508]
    assert sorted(fl(h)) == [(12, 112), (156, 208), (460, 16), (508, 3584)]


def test_fifo_order_appends_freed_blocks():
    h, _ = setup("first", "fifo")
    assert fl(h) == [(508, 3584), (12, 112), (156, 208), (396, 80)]


def test_size_orders():
    h, _ = setup("first", "size")
    assert fl(h) == [(396, 80), (12, 112), (156, 208), (508, 3584)]
    h.close()
    h, _ = setup("first", "size-desc")
    assert fl(h) == [(508, 3584), (156, 208), (12, 112), (396, 80)]


def test_no_coalescing_leaves_neighbours_apart():
    h = Heap(coalesce="none")
    a, b = h.malloc(100), h.malloc(100)
    h.free(a)
    h.free(b)
    assert fl(h)[:2] == [(12, 112), (124, 112)]
    assert h.check() == []


def test_deferred_coalescing_merges_when_a_request_would_fail():
    h = Heap(coalesce="deferred", size=4096, max_size=4096)
    ps = [h.malloc(1000) for _ in range(4)]  # 4 x 1008
    assert all(ps)
    for q in ps:
        h.free(q)
    assert len(fl(h)) >= 4  # nothing merged yet
    big = h.malloc(3000)  # cannot fit any single block: coalesce all, then it fits
    assert big
    assert any(e.kind == "coalesce" for e in h.events)
    assert h.check() == []


def test_split_threshold_keeps_small_remainders():
    h = Heap(split_threshold=64)
    a = h.malloc(100)
    h.malloc(10)
    h.free(a)  # @12:112 free
    h.malloc(50)  # needs 64, remainder would be 48 < 64: take the whole 112
    b = h.block_of(0x10010)
    assert b is not None and b.size == 112 and b.requested == 50


@pytest.mark.parametrize("policy", ["segregated", "buddy"])
def test_segregated_and_buddy_have_lists_per_class(policy):
    with Heap(policy=policy) as h:
        ps = [h.malloc(n) for n in (8, 24, 100, 500, 1000, 30)]
        for q in ps[::2]:
            h.free(q)
        lists = h.free_lists()
        assert len(lists) > 1
        for (lo, hi), blocks in lists:
            for b in blocks:
                assert lo <= b.size <= hi
        assert h.check() == []


def test_buddy_blocks_are_powers_of_two_and_merge():
    with Heap(policy="buddy") as h:
        a = h.malloc(100)
        b = h.malloc(100)
        for blk in h.blocks():
            if blk.state == "allocated":
                assert blk.size & (blk.size - 1) == 0
        h.free(a)
        h.free(b)
        sizes = sorted(b.size for b in h.free_list())
        assert all(s & (s - 1) == 0 for s in sizes)
        assert h.stats().n_coalesce >= 1
        assert h.check() == []
