"""Whole-heap queries on a big heap: `h.blocks()`, the free lists, slices of the history.

Each query is timed two ways in the same run, interleaved (new, old, new, old, ... so that
a change in the machine's load hits both alike), on the same heap:

  new   what heapviz does now: the records (Block, Event) built in C in one pass
        (csrc/py/records.c, heap_introspect.c, heap_history.c)
  old   what heapviz did before (kept below verbatim as the baseline): the binding's raw
        tuples turned into frozen dataclasses in Python, one constructor call and one
        site lookup per record

The heap has about 100,000 blocks (BLOCKS mallocs of 16..48 bytes, every other one freed,
so that no two free blocks touch) and a history of ~350,000 events.  Figures are medians
of the repeats, with the garbage collector on (a script's view; the old way's
dataclasses are tracked by it, the new records are not).  The target (issue 13):
`h.blocks()` on 100k blocks in at most 100 ms.

    python bench/bench_queries.py [--quick] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import heapviz  # noqa: E402
from heapviz import _core  # noqa: E402
from heapviz.records import BLOCK_STATES, Site  # noqa: E402

BLOCKS = 100_000
TARGET_MS = 100.0


# --- the old way (heapviz before issue 13), verbatim: the baseline ----------------------


@dataclass(frozen=True)
class OldBlock:
    address: int
    size: int
    payload: int
    payload_size: int
    requested: int
    state: str
    header: int
    footer: int
    magic: int
    prev_alloc: bool
    has_footer: bool
    seq: int
    site: Site | None
    free_site: Site | None
    gen: int
    list: int
    next_free: int | None
    prev_free: int | None


@dataclass(frozen=True)
class OldEvent:
    seq: int
    op: int
    kind: str
    flags: int
    site: Site | None
    address: int
    size: int
    a: int
    b: int


def _old_site(heap: Any, site_id: int) -> Site | None:
    if not site_id:
        return None
    t = heap._site_info(site_id)
    return Site(*t) if t else None


def old_block_from_tuple(heap: Any, t: tuple[Any, ...]) -> OldBlock:
    (addr, size, payload, psize, requested, state, header, footer, magic, prev_alloc,
     has_footer, seq, site, free_site, gen, lst, nxt, prv) = t
    return OldBlock(
        address=addr, size=size, payload=payload, payload_size=psize, requested=requested,
        state=BLOCK_STATES[state] if 0 <= state < len(BLOCK_STATES) else str(state),
        header=header, footer=footer, magic=magic, prev_alloc=bool(prev_alloc),
        has_footer=bool(has_footer), seq=seq, site=_old_site(heap, site),
        free_site=_old_site(heap, free_site), gen=gen, list=lst,
        next_free=nxt or None, prev_free=prv or None,
    )


def old_make_event(heap: Any, t: tuple[Any, ...]) -> OldEvent:
    seq, op, kind, flags, site, addr, size, a, b = t
    names = _core.EVENT_KINDS
    return OldEvent(seq, op, names[kind] if kind < len(names) else str(kind), flags,
                    _old_site(heap, site), addr, size, a, b)


def old_blocks(h: Any) -> list[OldBlock]:
    return [old_block_from_tuple(h, t) for t in h._blocks()]


def old_free_list(h: Any) -> list[OldBlock]:
    out: list[OldBlock] = []
    for i in range(len(h._free_lists())):
        out.extend(old_block_from_tuple(h, t) for t in h._free_list(i))
    return out


def old_events(h: Any, lo: int, hi: int) -> list[OldEvent]:
    return [old_make_event(h, t) for t in h._events(lo, hi)]


# --- the heap and the timing --------------------------------------------------------------


def big_heap(n: int, seed: int = 13) -> tuple[Any, list[Any]]:
    """~n blocks: n mallocs from a few call sites, every other one freed.  Returns the
    heap and the Pointers to the live blocks."""
    rng = random.Random(seed)
    h = heapviz.Heap(size=64 << 20, max_size=256 << 20, mmap_threshold=1 << 20)
    ps = []
    for i in range(n // 2):  # several lines of "student code", so several sites
        ps.append(h.malloc(rng.randint(16, 48)))
        ps.append(h.calloc(1, rng.randint(16, 48)) if i % 3 else h.malloc(24))
    for p in ps[::2]:
        h.free(p)
    return h, ps[1::2]


def interleave(timers: dict[str, Callable[[], Any]], repeat: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {k: [] for k in timers}
    for _ in range(repeat):
        for name, fn in timers.items():
            t0 = time.perf_counter()
            r = fn()
            out[name].append(time.perf_counter() - t0)
            del r
    return out


def bench(quick: bool) -> dict[str, Any]:
    n = 2000 if quick else BLOCKS
    repeat = 3 if quick else 11
    h, live = big_heap(n)
    nblocks, nfree = len(h._blocks()), sum(len(h._free_list(i))
                                         for i in range(len(h._free_lists())))
    first, count = h._history()
    span = min(count - first, n)
    lo = count - span
    # the two ways agree before anything is timed
    new_b, old_b = h.blocks(), old_blocks(h)
    if [tuple(getattr(b, f) for f in b.__match_args__) for b in new_b] != \
            [tuple(getattr(b, f) for f in b.__match_args__) for b in old_b]:
        raise AssertionError("bench_queries: the two ways disagree on the blocks")
    if [tuple(getattr(e, f) for f in e.__match_args__) for e in h.events[lo:count]] != \
            [tuple(getattr(e, f) for f in e.__match_args__) for e in old_events(h, lo, count)]:
        raise AssertionError("bench_queries: the two ways disagree on the events")
    del new_b, old_b
    timers: dict[str, Callable[[], Any]] = {
        "blocks new": h.blocks,
        "blocks old": lambda: old_blocks(h),
        "free_list new": h.free_list,
        "free_list old": lambda: old_free_list(h),
        "events new": lambda: h.events[lo:count],
        "events old": lambda: old_events(h, lo, count),
        "blocks raw tuples": h._blocks,
    }
    interleave(timers, 1)  # warm: caches, site records, allocator pools
    samples = interleave(timers, repeat)
    ms = {k: statistics.median(v) * 1e3 for k, v in samples.items()}
    for p in live:
        h.free(p)
    h.close()
    return {"quick": quick, "repeat": repeat, "blocks": nblocks, "free_blocks": nfree,
            "events": span, "history": count - first, "ms": ms,
            "target_ms": TARGET_MS, "target_blocks": BLOCKS}


def report(res: dict[str, Any]) -> str:
    ms = res["ms"]
    lines = [f"{res['blocks']} blocks ({res['free_blocks']} free), a slice of "
             f"{res['events']} events; medians of {res['repeat']} (ms)"]
    for q in ("blocks", "free_list", "events"):
        lines.append(f"{q:<10} new {ms[q + ' new']:8.1f}   old {ms[q + ' old']:8.1f}   "
                     f"{ms[q + ' old'] / ms[q + ' new']:5.1f}x faster")
    lines.append(f"raw tuples (h._blocks())  {ms['blocks raw tuples']:8.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a small heap: a smoke test")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args(argv)
    res = bench(args.quick)
    print(report(res))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
