"""The Python API of the allocator core: the public contract of issue 2."""

from __future__ import annotations

import pytest

import heapviz
from heapviz import NULL, Heap, Pointer


def test_malloc_returns_pointer_at_deterministic_address(h):
    p = h.malloc(16)
    assert isinstance(p, Pointer)
    # align 16, 4-byte header: the first payload is 16-aligned right after the base
    assert int(p) == 0x10010
    assert hex(p) == "0x10010"
    assert bool(p)
    assert h.header_size == 4


def test_same_script_same_addresses():
    def run():
        with Heap() as h:
            ps = [h.malloc(n) for n in (1, 24, 100, 7)]
            h.free(ps[1])
            return [int(h.malloc(20))] + [int(p) for p in ps]

    assert run() == run()


def test_null_is_falsy_pointer_with_address_zero():
    assert isinstance(NULL, Pointer)
    assert not NULL
    assert int(NULL) == 0
    assert repr(NULL) == "NULL"


def test_malloc_failure_returns_null():
    with Heap(max_size=64 * 1024) as h:
        assert h.malloc(10**6) == NULL
        assert not h.malloc(10**6)
        kinds = [e.kind for e in h.events]
        assert "fail" in kinds


def test_bytes_roundtrip_and_c_indexing(h):
    p = h.malloc(8)
    p[0:8] = b"abcdefgh"
    assert p[0] == ord("a")
    assert p.read(8) == b"abcdefgh"
    q = p + 4
    assert q[-1] == ord("d")  # C indexing: the byte before q
    assert q - p == 4
    assert (p + 4) - 4 == p
    assert p < q and q > p and p != q


def test_cast_int_elements_scale(h):
    p = h.malloc(heapviz.sizeof("int[10]"))
    ip = p.cast("int")
    for i in range(10):
        ip[i] = i * i - 5
    assert [ip[i] for i in range(10)] == [i * i - 5 for i in range(10)]
    assert int(ip + 1) - int(ip) == 4
    assert ip[0:3] == [-5, -4, -1]
    d = h.malloc(16).cast("double")
    d[1] = 2.5
    assert d[1] == 2.5


def test_sizeof():
    s = heapviz.sizeof
    assert s("char") == 1 and s("short") == 2 and s("int") == 4 and s("long") == 8
    assert s("float") == 4 and s("double") == 8
    assert s("int*") == 8 and s("char **") == 8 and s("void*") == 8
    assert s("int[10]") == 40 and s("double[2][3]") == 48
    with pytest.raises(ValueError, match="unknown C type"):
        s("integer")
    with pytest.raises(TypeError):
        s(4)


def test_pointer_elements_make_a_linked_list(h):
    # struct node { int value; struct node *next; } as 16 bytes: value at 0, next at 8
    head = NULL
    for v in (3, 2, 1):
        n = h.malloc(16)
        n.cast("int")[0] = v
        (n + 8).cast("void*")[0] = head
        head = n
    out = []
    cur = head
    while cur:
        out.append(cur.cast("int")[0])
        cur = (cur + 8).cast("void*")[0]
    assert out == [1, 2, 3]


def test_calloc_zeroes_and_overflow_gives_null(h):
    p = h.calloc(4, heapviz.sizeof("int"))
    assert p.cast("int")[0:4] == [0, 0, 0, 0]
    assert h.calloc(2**62, 16) == NULL
    fail = [e for e in h.events if e.kind == "fail"]
    assert fail and fail[-1].fields["reason"] == 2  # HV_FAIL_OVERFLOW


def test_realloc_semantics(h):
    assert h.realloc(NULL, 16)  # acts as malloc
    p = h.malloc(16)
    p[0:5] = b"hello"
    q = h.realloc(p, 4000)
    assert q.read(5) == b"hello"
    r = h.realloc(q, 0)
    assert r == NULL
    assert h.check() == []


def test_realloc_shrinks_in_place(h):
    p = h.malloc(200)
    p[0:4] = b"abcd"
    q = h.realloc(p, 40)
    assert int(q) == int(p)
    assert q.read(4) == b"abcd"
    assert h.check() == []


def test_free_null_is_noop(h):
    before = len(h.events)
    h.free(NULL)
    assert len(h.events) == before


def test_strdup_and_helpers(h):
    p = h.strdup("hello")
    assert p.string() == "hello"
    assert heapviz.strlen(p) == 5
    q = h.malloc(heapviz.strlen(p) + 1)
    heapviz.strcpy(q, p)
    assert q.string() == "hello"
    r = h.malloc(8)
    heapviz.memset(r, 0x41, 8)
    assert r.read(8) == b"A" * 8
    heapviz.memcpy(r, "xyz", 3)
    assert r.read(3) == b"xyz"
    heapviz.strcpy(r, "hi")
    assert r.read(3) == b"hi\0"


def test_blocks_describe_the_heap(h):
    p = h.malloc(16)
    blocks = h.blocks()
    first = blocks[0]
    assert first.state == "allocated"
    assert first.payload == int(p)
    assert first.requested == 16
    assert first.address == int(p) - h.header_size
    assert first.site is not None and first.site.file.endswith("test_api.py")
    assert blocks[1].state == "free"
    assert sum(b.size for b in blocks if b.state in ("allocated", "free")) + \
        h.layout["heap_pad"] + h.header_size == h.stats().brk_size


def test_stats_fields(h):
    p = h.malloc(100)
    s = h.stats()
    assert s.heap_size == 4096
    assert s.in_use >= 100 and s.payload == 100 and s.peak_payload == 100
    assert s.free_blocks == 1 and s.largest_free == s.free_bytes
    assert 0 < s.utilization < 1
    assert s.n_malloc == 1
    h.free(p)
    s = h.stats()
    assert s.payload == 0 and s.peak_payload == 100 and s.n_free == 1


def test_heap_grows_by_pages_with_event():
    with Heap(size=4096) as h:
        h.malloc(6000)
        s = h.stats()
        assert s.brk_size == 8192
        grows = [e for e in h.events if e.kind == "grow"]
        assert grows and grows[0].fields["old_break"] == 0x10000 + 4096


def test_mmap_threshold_gives_own_mapping(h):
    p = h.malloc(200 * 1024)
    b = h.block_of(p)
    assert b is not None and b.state == "mmapped"
    assert int(p) >= h.layout["mmap_base"]
    p[0] = 1
    h.free(p)
    assert any(e.kind == "munmap" for e in h.events)
    with Heap(mmap_threshold=0, max_size=1 << 22) as h2:
        q = h2.malloc(200 * 1024)
        assert h2.block_of(q).state == "allocated"


def test_sbrk_brk_and_mmap_calls(h):
    old = h.sbrk(0)
    assert int(old) == int(h.brk) == 0x10000 + 4096
    p = h.sbrk(64)
    assert int(p) == int(old)
    p[0:4] = b"raw!"
    assert int(h.brk) >= int(old) + 64
    m = h.mmap(10000)
    m[9999] = 7
    assert m[9999] == 7
    h.munmap(m)
    with pytest.raises(heapviz.SegmentationFault):
        m[0]
    assert h.check() == []


def test_closed_heap_raises(h):
    p = h.malloc(8)
    h.close()
    with pytest.raises(ValueError, match="closed"):
        h.malloc(8)
    with pytest.raises(ValueError, match="closed"):
        p[0]


def test_context_manager_closes():
    with Heap() as h:
        h.malloc(1)
    assert h.closed


def test_segfault_outside_mappings(h):
    with pytest.raises(heapviz.SegmentationFault):
        NULL[0]
    with pytest.raises(heapviz.SegmentationFault):
        Pointer(0x87654321)[0] = 1
    assert issubclass(heapviz.SegmentationFault, heapviz.HeapError)


def test_events_are_recorded_lazily_with_sites(h):
    p = h.malloc(24)
    h.free(p)
    ev = [e for e in h.events if e.kind in ("malloc", "free")]
    assert [e.kind for e in ev] == ["malloc", "free"]
    assert ev[0].address == int(p) and ev[0].size == 24
    assert ev[0].site.file.endswith("test_api.py")
    assert ev[1].site.line == ev[0].site.line + 1
    assert h.events[0].seq == 0


def test_history_limit_truncates_with_notice():
    with Heap(history_limit=100) as h:
        for _ in range(200):
            h.free(h.malloc(8))
        log = h.events
        assert log.truncated
        assert len(log) - log.first <= 100
        assert "dropped" in repr(log)
        with pytest.raises(IndexError, match="dropped"):
            log[0]


def test_every_policy_and_order_runs_consistently():
    for policy in heapviz.heap.POLICIES:
        for order in heapviz.heap.ORDERS:
            with Heap(policy=policy, order=order) as h:
                ps = [h.malloc(n) for n in (10, 200, 33, 64, 5, 900)]
                for p in ps[::2]:
                    h.free(p)
                ps = [h.malloc(n) for n in (30, 70, 20)]
                assert h.check() == [], (policy, order)


def test_free_list_in_order(h):
    ps = [h.malloc(16) for _ in range(6)]
    for i in (3, 1, 5):
        h.free(ps[i])
    fl = h.free_list()
    assert [b.address for b in fl] == sorted(b.address for b in fl)
    assert all(b.state == "free" for b in fl)
    assert fl[0].next_free == fl[1].address


def test_check_finds_corruption_in_report_mode():
    with Heap(checks="report") as h:
        p = h.malloc(16)
        h.malloc(16)
        # write far past the end of p: lands on the next block's header
        (p + 28).cast("unsigned int")[0] = 0xDEADBEEF
        assert h.check() != []
