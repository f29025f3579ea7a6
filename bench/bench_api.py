"""Python API benchmark: heapviz.Heap against ctypes' libc malloc/free, and checks="strict"
against checks="off".

Measured in one process, in one run, interleaved (heapviz, ctypes, heapviz, … so that a change
in the machine's load hits both alike); every figure is the median over the repeats of the
time per operation, with the garbage collector off while timing (as timeit does).

  pair      `h.free(h.malloc(64))` against `libc.free(libc.malloc(64))` (ctypes, restype and
            argtypes declared), ns per pair
  mixed     a random workload: 1000 slots, each operation frees the slot's block or mallocs
            1..1024 bytes (a few up to 8 KiB) into it; ns per operation
  api       the mixed workload as a student script does it: every malloc'd block is written
            (p.write), its first byte set and read (p[0]), and read back whole (p.read) before
            its free — the "Python API workload" of the strict-vs-off target
  bytes     per byte accessed: p[i] reads and writes in a loop over a 4 KiB block, and
            p.read(4096) / p.write(4 KiB)

Heaps: `Heap()` as students get it (first fit, checks="strict", recording on) and variants;
each heap reaches its steady state first (its event history full, 1,000,000 events). The
pair is timed on PAIR_HEAPS heaps of each configuration, one after the other from round to
round: how fast a heap runs depends a little on where its structures land in memory (two
addresses 4 KiB apart make false dependencies between a store and a load, "4K aliasing";
now and then one heap in ten or twenty loses ~20% to that), and the median over several
heaps is what a script can expect.

    python bench/bench_api.py [--quick] [--json OUT]
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import gc
import json
import os
import random
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import heapviz  # noqa: E402

Timer = Callable[[], float]  # one repeat: seconds per operation


def libc_functions() -> tuple[Any, Any]:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
    malloc, free = libc.malloc, libc.free
    malloc.restype, malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    free.restype, free.argtypes = None, [ctypes.c_void_p]
    return malloc, free


class CtypesLibc:
    """`libc.malloc(n)` / `libc.free(p)` through ctypes, as a script would call them."""

    def __init__(self) -> None:
        self.malloc, self.free = libc_functions()


PAIR_HEAPS = 3


def pair_timer(stmt: str, env: dict[str, Any], number: int) -> Timer:
    t = timeit.Timer(stmt, globals=env)
    return lambda: t.timeit(number) / number


def rotating_pair_timer(heaps: list[Any], number: int) -> Timer:
    """`h.free(h.malloc(64))` on each heap in turn, one heap a call."""
    timers = [timeit.Timer("h.free(h.malloc(64))", globals={"h": h}) for h in heaps]
    turn = iter(range(1 << 62))
    return lambda: timers[next(turn) % len(timers)].timeit(number) / number


def make_ops(n: int, slots: int, seed: int) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    ops = []
    for _ in range(n):
        size = rng.randint(1, 1024) if rng.random() < 0.97 else rng.randint(1025, 8192)
        ops.append((rng.randrange(slots), size))
    return ops


def mixed(allocator: Any, ops: list[tuple[int, int]], slots: int) -> float:
    """Seconds per operation of the mixed workload through `allocator`'s malloc/free: a
    heapviz.Heap or the ctypes libc wrapper, timed by the same loop."""
    table: list[Any] = [None] * slots
    malloc, free = allocator.malloc, allocator.free
    t0 = time.perf_counter()
    for i, size in ops:
        p = table[i]
        if p is None:
            table[i] = malloc(size)
        else:
            free(p)
            table[i] = None
    t = time.perf_counter() - t0
    for p in table:
        if p is not None:
            free(p)
    return t / len(ops)


def api_heapviz(h: Any, ops: list[tuple[int, int]], slots: int, data: bytes) -> float:
    """The mixed workload with the accesses a student script makes."""
    table: list[Any] = [None] * slots
    sizes = [0] * slots
    t0 = time.perf_counter()
    for i, size in ops:
        p = table[i]
        if p is None:
            p = h.malloc(size)
            p.write(data[:size])
            p[0] = 65
            table[i], sizes[i] = p, size
        else:
            if p[0] != 65 or len(p.read(sizes[i])) != sizes[i]:
                raise AssertionError("api workload: content lost")
            h.free(p)
            table[i] = None
    t = time.perf_counter() - t0
    for p in table:
        if p is not None:
            h.free(p)
    return t / len(ops)


RING = 1 << 20  # Heap()'s event ring (its default ring_capacity)


def steady(h: Any, seconds: float) -> None:
    """Write the heap's whole event ring once (so that its pages are touched: the history
    wraps round at 1,000,000 events, before the ring's last 48,576 slots) and warm the
    caches."""
    deadline = time.perf_counter() + seconds
    malloc, free = h.malloc, h.free
    while time.perf_counter() < deadline:
        for _ in range(2000):
            free(malloc(64))
        _first, count = h._history()  # count: every event recorded so far
        if count > RING or count == 0:  # the ring wrapped, or nothing is recorded
            break


def interleave(timers: dict[str, Timer], repeat: int) -> dict[str, list[float]]:
    """Run every timer once per round, `repeat` rounds, gc off; seconds per op each time."""
    out: dict[str, list[float]] = {k: [] for k in timers}
    enabled = gc.isenabled()
    gc.disable()
    try:
        for fn in timers.values():  # a round not counted: first touches, caches
            fn()
        for _ in range(repeat):
            for k, fn in timers.items():
                os.sched_yield()  # begin on a fresh time slice
                out[k].append(fn())
    finally:
        if enabled:
            gc.enable()
    return out


def ns(samples: list[float]) -> float:
    return statistics.median(samples) * 1e9


HEAPS: dict[str, dict[str, Any]] = {
    "Heap()": {},  # first fit, checks="strict", recording on: what students get
    "checks=report": {"checks": "report"},
    "checks=off": {"checks": "off"},
    "checks=off,record=False": {"checks": "off", "record": False},
    "segregated": {"policy": "segregated"},
    "segregated,checks=off": {"policy": "segregated", "checks": "off"},
}


def bench(quick: bool) -> dict[str, Any]:
    number = 300 if quick else 20000
    repeat = 3 if quick else 21
    nops = 2000 if quick else 20000
    slots = 200 if quick else 1000
    warm = 0.0 if quick else 1.0
    ops = make_ops(nops, slots, seed=7)
    data = bytes(range(256)) * 40  # 10 KiB of content to write

    c = CtypesLibc()
    pair_heaps = {name: [heapviz.Heap(max_size=256 << 20, **kw)
                         for _ in range(1 if quick else PAIR_HEAPS)]
                  for name, kw in HEAPS.items()}
    heaps = {name: hs[0] for name, hs in pair_heaps.items()}
    for hs in pair_heaps.values():
        for h in hs:
            steady(h, warm)

    res: dict[str, Any] = {"quick": quick, "number": number, "repeat": repeat,
                           "mixed_ops": nops, "slots": slots,
                           "pair_heaps": 1 if quick else PAIR_HEAPS}
    # 1. the pair and the call floor
    timers: dict[str, Timer] = {
        f"pair {name}": rotating_pair_timer(hs, number) for name, hs in pair_heaps.items()
    }
    timers["pair ctypes"] = pair_timer("libc.free(libc.malloc(64))", {"libc": c}, number)
    timers["pair floor"] = pair_timer("f(f(64))", {"f": abs}, number)
    # 2. the mixed workload
    for name, h in heaps.items():
        timers[f"mixed {name}"] = (lambda h=h: mixed(h, ops, slots))
    timers["mixed ctypes"] = lambda: mixed(c, ops, slots)
    # 3. the API workload, strict against off (and report)
    for name in ("Heap()", "checks=report", "checks=off"):
        h = heaps[name]
        timers[f"api {name}"] = (lambda h=h: api_heapviz(h, ops, slots, data))
    # 4. per byte accessed, in a 4 KiB block
    block = 4096
    buf = bytes(range(256)) * (block // 256)
    blocks = []
    for name in ("Heap()", "checks=off"):
        h = heaps[name]
        p = h.malloc(block)
        blocks.append((h, p))
        p.write(buf)
        env = {"p": p, "buf": buf, "r": range(block)}
        loops = max(1, number // 100)
        for what, stmt, per in (
            ("p[i] read", "for i in r: p[i]", block),
            ("p[i] write", "for i in r: p[i] = 7", block),
            ("p.read(4096)", "p.read(4096)", 1),
            ("p.write(4 KiB)", "p.write(buf)", 1),
        ):
            n = loops if per > 1 else number
            t = timeit.Timer(stmt, globals=env)
            timers[f"bytes {what} {name}"] = (lambda t=t, n=n, per=per: t.timeit(n) / n / per)
        timers[f"bytes loop overhead {name}"] = (
            lambda env=env, loops=loops: timeit.Timer("for i in r: pass", globals=env)
            .timeit(loops) / loops / block)
    samples = interleave(timers, repeat)
    res["ns"] = {k: ns(v) for k, v in samples.items()}
    res["samples_ns"] = {k: [x * 1e9 for x in v] for k, v in samples.items()}
    for h, p in blocks:
        h.free(p)
    for hs in pair_heaps.values():
        for h in hs:
            h.close()
    return res


def report(res: dict[str, Any]) -> str:
    r = res["ns"]
    out = [f"{'what':<44} {'ns (median)':>12}"]
    for k, v in r.items():
        out.append(f"{k:<44} {v:>12.1f}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args(argv)
    res = bench(args.quick)
    print(report(res))
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
