"""Block and Event: records built in C that behave as the frozen dataclasses they were.

`h.blocks()`, the free lists, `h.block_of()` and `h.events[...]` build their records in C
(csrc/py/records.c); records made from Python (recordings, tests) go through the same
type.  Both must be indistinguishable from the dataclasses: fields, equality, hash, repr,
frozen, dataclasses.fields/asdict/replace, pickling and copying.
"""

from __future__ import annotations

import copy
import dataclasses
import gc
import pickle

import pytest

import heapviz
from heapviz.heap import block_from_tuple
from heapviz.records import BLOCK_STATES, Block, Event, Site

BLOCK_FIELDS = ("address", "size", "payload", "payload_size", "requested", "state",
                "header", "footer", "magic", "prev_alloc", "has_footer", "seq", "site",
                "free_site", "gen", "list", "next_free", "prev_free")
EVENT_FIELDS = ("seq", "op", "kind", "flags", "site", "address", "size", "a", "b")


@pytest.fixture
def h() -> heapviz.Heap:
    heap = heapviz.Heap()
    a = heap.malloc(24)
    heap.malloc(100)
    heap.free(a)
    heap.calloc(4, 8)
    heap.malloc(200 * 1024)  # an mmapped chunk
    yield heap
    heap.close()


def test_the_fields_are_the_contract() -> None:
    assert tuple(f.name for f in dataclasses.fields(Block)) == BLOCK_FIELDS
    assert Block.__match_args__ == BLOCK_FIELDS
    assert tuple(f.name for f in dataclasses.fields(Event)) == EVENT_FIELDS
    assert Event.__match_args__ == EVENT_FIELDS
    assert dataclasses.is_dataclass(Block) and dataclasses.is_dataclass(Event)


def test_blocks_built_in_c_equal_blocks_built_from_tuples(h: heapviz.Heap) -> None:
    """The C record path and the raw tuple path describe every block alike."""
    fast = h.blocks()
    slow = [block_from_tuple(h, t) for t in h._blocks()]
    assert fast == slow
    assert [hash(b) for b in fast] == [hash(b) for b in slow]
    assert [repr(b) for b in fast] == [repr(b) for b in slow]
    assert {b.state for b in fast} >= {"allocated", "free", "mmapped"}
    assert all(type(b) is Block for b in fast)
    for b in fast:
        assert b.state in BLOCK_STATES
        assert isinstance(b.prev_alloc, bool) and isinstance(b.has_footer, bool)
        assert b.site is None or isinstance(b.site, Site)
        assert b.next_free is None or b.next_free > 0
        assert b.end == b.address + b.size


def test_the_free_lists_and_block_of_are_records(h: heapviz.Heap) -> None:
    free = h.free_list()
    assert free and all(type(b) is Block and b.state == "free" for b in free)
    assert [b for _, bs in h.free_lists() for b in bs] == free
    assert h.free_list(0) == free
    b = h.blocks()[1]
    assert h.block_of(b.payload + 3) == b
    assert h.block_of(1) is None


def test_sites_are_shared_records(h: heapviz.Heap) -> None:
    blocks = [b for b in h.blocks() if b.site is not None]
    assert blocks[0].site.file == __file__ and blocks[0].site.function == "h"
    ids = {t[0]: t[12] for t in h._blocks()}  # raw tuples carry the site ids
    assert all(b.site is h._site_record(ids[b.address]) for b in blocks)
    again = [b for b in h.blocks() if b.site is not None]
    assert all(x.site is y.site for x, y in zip(blocks, again, strict=True))
    assert h._site_record(0) is None and h._site_record(10**6) is None


def test_a_block_is_frozen(h: heapviz.Heap) -> None:
    b = h.blocks()[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        b.size = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        b.colour = "red"  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        del b.size  # type: ignore[misc]


def test_equality_and_hash_are_the_dataclasses(h: heapviz.Heap) -> None:
    b = h.blocks()[1]
    c = dataclasses.replace(b)
    assert c == b and hash(c) == hash(b) and c is not b
    d = dataclasses.replace(b, size=b.size + 16)
    assert d != b and d.size == b.size + 16 and d.address == b.address
    assert b != tuple(getattr(b, f) for f in BLOCK_FIELDS)  # not a tuple
    assert (b == 5) is False and b != "x"
    assert len({b, c, d}) == 2


def test_asdict_copy_and_pickle(h: heapviz.Heap) -> None:
    b = h.blocks()[1]
    d = dataclasses.asdict(b)
    assert list(d) == list(BLOCK_FIELDS) and d["size"] == b.size
    assert copy.copy(b) == b and copy.deepcopy(b) == b
    assert pickle.loads(pickle.dumps(b)) == b
    e = h.events[0]
    assert pickle.loads(pickle.dumps(e)) == e and copy.copy(e) == e


def test_a_block_made_from_python() -> None:
    site = Site("lesson.py", 3, "main")
    kw = dict(address=0x10000, size=32, payload=0x10010, payload_size=24, requested=20,
              state="allocated", header=0x23, footer=0x23, magic=0, prev_alloc=True,
              has_footer=True, seq=1, site=site, free_site=None, gen=0, list=-1,
              next_free=None, prev_free=None)
    b = Block(**kw)
    assert b == Block(*kw.values())
    assert repr(b) == "<Block allocated 0x10000 size=32 requested=20>"
    assert b.header_fields == {"size": 32, "allocated": True, "prev_allocated": True}
    assert gc.is_tracked(b)  # it may hold anything: the collector watches it
    with pytest.raises(TypeError, match="missing field 'prev_free'"):
        Block(**{k: v for k, v in kw.items() if k != "prev_free"})
    with pytest.raises(TypeError, match="unexpected field 'colour'"):
        Block(**kw, colour="red")
    with pytest.raises(TypeError, match="twice"):
        Block(0x10000, **kw)
    with pytest.raises(TypeError, match="18 fields"):
        Block(*range(19))


def test_records_built_in_c_are_not_tracked(h: heapviz.Heap) -> None:
    # as CPython untracks tuples of atoms: their fields cannot lead back to them
    assert not any(gc.is_tracked(b) for b in h.blocks())
    assert not any(gc.is_tracked(e) for e in h.events[0:20])


def test_events_match_their_raw_tuples(h: heapviz.Heap) -> None:
    kinds = heapviz._core.EVENT_KINDS
    events = h.events[0:len(h.events)]
    raw = h._events(0, len(h.events))
    assert len(events) == len(raw) > 10
    for e, t in zip(events, raw, strict=True):
        seq, op, kind, flags, site, addr, size, a, b = t
        assert (e.seq, e.op, e.kind, e.flags, e.address, e.size, e.a, e.b) == (
            seq, op, kinds[kind], flags, addr, size, a, b)
        assert e.site == (h._site_record(site) if site else None)
    assert list(h.events) == events
    assert h.events[3] == events[3] and h.events[-1] == events[-1]
    assert h.events[1:9:3] == events[1:9:3]
    e = events[0]
    assert repr(e).startswith("Event(seq=0, op=1, kind='place', flags=")
    assert str(e).startswith("#0 op 1 place(")
    assert Event(*(getattr(e, f) for f in EVENT_FIELDS)) == e


def test_records_outlive_their_heap() -> None:
    h = heapviz.Heap()
    p = h.malloc(16)
    blocks, events = h.blocks(), h.events[0:5]
    h.free(p)
    h.close()
    assert blocks[0].state == "allocated" and blocks[0].site is not None
    assert events[0].kind == "place"
    with pytest.raises(ValueError, match="closed"):
        h.blocks()
