"""Time travel: replays of a heap's history, checkpoints, and what a replay re-runs.

A replay rebuilds a past moment by re-running the recorded operations on a private heap; a
checkpoint (a clone of the replay heap every so many operations) keeps a scrub through
1,000,000 events fast.  Every picture of a replayed moment must be the picture a fresh replay
from operation 0 draws.
"""

from __future__ import annotations

import random
import statistics
import time

import pytest

_viz = pytest.importorskip("heapviz._viz", reason="renderer not built (SDL2, SDL2_ttf or libpng)")

import heapviz  # noqa: E402

SCRUB_BOUND_S = 0.2  # a scrub to any step, once the history has been walked through


def million_event_heap(target: int = 996_000) -> heapviz.Heap:
    """A heap with just under 1,000,000 events of history (the default history limit keeps
    them all): random mallocs and frees through the Python API, recording on."""
    h = heapviz.Heap(checks="off")
    rnd = random.Random(7)
    live: list[heapviz.Pointer] = []
    while len(h.events) < target:
        for _ in range(1000):
            if live and rnd.random() < 0.5:
                h.free(live.pop(rnd.randrange(len(live))))
            else:
                live.append(h.malloc(rnd.randint(8, 200)))
    h.__dict__["_keep"] = live
    assert h.events[0].seq == 0, "the whole history is there"
    return h


@pytest.fixture(scope="module")
def big() -> heapviz.Heap:
    return million_event_heap()


def picture(src: object) -> bytes:
    return bytes(_viz.pixels(src, width=900, height=700, chrome=True)[2])


def test_scrub_through_a_million_events(big: heapviz.Heap) -> None:
    cap = big._capsule()
    r = _viz.Replay(cap)
    ops = r.ops
    assert len(big.events) > 990_000 and ops > 400_000
    # The first walk to the end re-runs everything once and leaves checkpoints behind.
    t = time.perf_counter()
    r.goto(ops)
    first = time.perf_counter() - t
    info = r.info
    assert info["checkpoints"] >= 8, info
    assert info["bytes"] < 256 << 20, "checkpoints stay within their memory budget"
    rnd = random.Random(3)
    walls, cpus, rerun = [], [], []
    for _ in range(40):
        op = rnd.randrange(ops + 1)
        before = r.info["ops_rerun"]
        t, c = time.perf_counter(), time.process_time()
        assert r.goto(op) == op
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
        rerun.append(r.info["ops_rerun"] - before)
    print(
        f"\n{len(big.events)} events, {ops} ops: first walk {first * 1000:.0f} ms; scrub "
        f"median {statistics.median(walls) * 1000:.1f} ms, max {max(walls) * 1000:.1f} ms wall, "
        f"max {max(cpus) * 1000:.1f} ms CPU; {info['checkpoints']} checkpoints every "
        f"{info['every']} ops, {info['bytes'] >> 20} MiB"
    )
    # CPU time: what a scrub costs however loaded the machine is; wall time as well, with
    # room for a loaded machine's scheduling.
    assert max(cpus) < SCRUB_BOUND_S, cpus
    assert statistics.median(walls) < SCRUB_BOUND_S
    assert max(rerun) <= info["every"], "never more than a checkpoint interval re-run"


def test_a_scrubbed_moment_is_the_fresh_replay(big: heapviz.Heap) -> None:
    cap = big._capsule()
    r = _viz.Replay(cap)
    ops = r.ops
    r.goto(ops)  # checkpoints everywhere
    for op in (ops - 1, 1, ops // 3, 2 * ops // 3 + 17, 5):
        r.goto(op)
        fresh = _viz.Replay(cap)
        fresh.goto(op)  # from operation 0, no checkpoint
        assert picture(r) == picture(fresh), f"op {op}"


def test_the_end_of_a_replay_is_the_live_heap(big: heapviz.Heap) -> None:
    """The last moment of the replay draws what the live heap draws (the heap area: the
    title bar says "live" or not)."""
    cap = big._capsule()
    r = _viz.Replay(cap)
    r.goto(r.ops)
    a = _viz.scene(r, width=900)
    b = _viz.scene(cap, width=900)
    assert a["items"] == b["items"]


def test_replay_reruns_sbrk_mmap_and_named_frames() -> None:
    """An explicit sbrk and mmap are re-run with the bytes asked for (the event's `a`), and
    a frame keeps its name (FRAME_PUSH's `b`), so the replayed heap is the live one."""
    h = heapviz.Heap(checks="report")
    keep = [h.malloc(40)]
    h.sbrk(100)
    h.mmap(5000)
    f = h.frame("compute")
    f.__enter__()
    keep.append(f.alloc(24))
    keep.append(h.malloc(30))
    grow = [e for e in h.events if e.kind == "grow" and not e.flags & 4]
    mm = [e for e in h.events if e.kind == "mmap" and not e.flags & 4]
    assert grow and grow[-1].a == 100 and mm and mm[-1].a == 5000
    cap = h._capsule()
    r = _viz.Replay(cap)
    r.goto(r.ops)
    replayed, live = _viz.scene(r, width=1000), _viz.scene(cap, width=1000)
    assert replayed["items"] == live["items"]
    texts = {it["text"] for it in replayed["items"] if it["kind"] == "text"}
    assert "compute" in texts, "the frame's own name, not 'frame'"


def test_going_back_and_forth_agrees_with_fresh_replays() -> None:
    """Small history, checkpoints every few ops: every moment, in a scrambled order."""
    h = heapviz.Heap(policy="next", checks="off")
    rnd = random.Random(11)
    live: list[heapviz.Pointer] = []
    for _ in range(6000):
        if live and rnd.random() < 0.45:
            h.free(live.pop(rnd.randrange(len(live))))
        else:
            live.append(h.malloc(rnd.randint(1, 300)))
    cap = h._capsule()
    r = _viz.Replay(cap)
    n = r.ops
    r.goto(n)
    order = [*range(0, n + 1, 97), n, 0, n // 2]
    rnd.shuffle(order)
    for op in order[:25]:
        r.goto(op)
        fresh = _viz.Replay(cap)
        fresh.goto(op)
        assert _viz.scene(r, width=800)["items"] == _viz.scene(fresh, width=800)["items"], op
