"""A heap and its replay agree on every observable, at every step of random programs.

Random programs (hypothesis) run on heaps of every policy with random option sets; after
every step the live heap's observables are kept — blocks, free lists, stats, stack frames,
the errors so far, the scene (heapviz.render.scene, with the program's variables), what the
pictures paint (marks, the error banner, the event log), the notebook's hover records —
and, once the program is done, the heap at that step is asked again of:

* the one replay (heapviz.history, viz/replay.c): every observable, field by field;
* a recording of the run, saved, loaded and replayed (heapviz.recording): the same blocks,
  free lists, stats and scene at every step;
* the notebook's interactive view (heapviz.timeline): its frame of that step is the same
  scene, item by item.

The invariant checker runs after every step.  Writes go through the heap's record_write, as
the scenario runner and the recordings write them (bytes the binding writes are not in the
history: docs/architecture.md).
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import heapviz
from heapviz import errors, options, recording, render

pytest.importorskip("heapviz._viz", reason="the replay is the renderer's (SDL2 not found)")
from heapviz import history, timeline

WIDTH = 700
SIZES = st.sampled_from([0, 1, 7, 8, 24, 100, 300, 1000, 5000, 20000]) | st.integers(1, 3000)

OPS = st.one_of(
    st.tuples(st.just("malloc"), SIZES),
    st.tuples(st.just("calloc"), st.integers(1, 12), st.integers(0, 64)),
    st.tuples(st.just("realloc"), st.integers(0, 99), SIZES),
    st.tuples(st.just("free"), st.integers(0, 99)),
    st.tuples(st.just("double_free"), st.integers(0, 99)),
    st.tuples(st.just("write"), st.integers(0, 99), st.integers(1, 64)),
    st.tuples(st.just("read"), st.integers(0, 99), st.integers(-4, 80)),
    st.tuples(st.just("lose"), st.integers(0, 99)),
    st.tuples(st.just("sbrk"), st.sampled_from([1, 16, 100, 5000])),
    st.tuples(st.just("mmap"), st.sampled_from([1, 4096, 10000])),
    st.tuples(st.just("munmap"), st.integers(0, 99)),
    st.tuples(st.just("enter"), st.sampled_from(["main", "helper", "parse_line"])),
    st.tuples(st.just("local"), st.integers(1, 200)),
    st.just(("leave",)),
    st.tuples(st.just("note"), st.sampled_from(["here", "the loop starts"])),
)


def configs(policy: str) -> st.SearchStrategy[dict[str, Any]]:
    """Option sets of a policy: the fit policies' orders and coalescing, and what every
    policy has (alignment, footers, magic, thresholds, the initial size, checks)."""
    fit = policy in ("first", "next", "best", "worst")
    return st.fixed_dictionaries({
        "policy": st.just(policy),
        "order": st.sampled_from(options.ORDERS) if fit else st.just("address"),
        "coalesce": st.sampled_from(options.COALESCE) if fit else st.just("immediate"),
        "align": st.sampled_from(options.ALIGNS),
        "footer": st.booleans(),
        "magic": st.booleans(),
        "split_threshold": st.sampled_from([0, 64]),
        "mmap_threshold": st.sampled_from([0, 8192, 128 << 10]),
        "size": st.sampled_from([0, 4096, 8192]),
        "checks": st.sampled_from(["strict", "report"]),
    })


@dataclass
class Program:
    """A program's state: its pointers (by index), those it freed, its frames."""

    h: heapviz.Heap
    live: list[Any] = field(default_factory=list)
    dead: list[Any] = field(default_factory=list)
    maps: list[Any] = field(default_factory=list)
    frames: list[Any] = field(default_factory=list)

    def pick(self, pool: list[Any], i: int) -> Any:
        return pool[i % len(pool)] if pool else None

    def step(self, op: tuple[Any, ...]) -> None:
        """One C statement; a memory error it makes is the heap's to judge."""
        h, kind = self.h, op[0]
        try:
            self._do(h, kind, op)
        except heapviz.HeapError as e:
            assert e.heap is h or e.heap is None
            assert h.checks == "strict" or isinstance(e, heapviz.SegmentationFault)

    def _do(self, h: heapviz.Heap, kind: str, op: tuple[Any, ...]) -> None:
        if kind in ("malloc", "calloc"):
            p = h.malloc(op[1]) if kind == "malloc" else h.calloc(op[1], op[2])
            if p:
                self.live.append(p)
        elif kind == "realloc" and self.live:
            i = op[1] % len(self.live)
            q = h.realloc(self.live[i], op[2])
            if q or op[2] == 0:
                old = self.live.pop(i)
                if q:
                    self.live.append(q)
                if int(q) != int(old):
                    self.dead.append(old)
        elif kind == "free" and self.live:
            p = self.live.pop(op[1] % len(self.live))
            h.free(p)
            self.dead.append(p)
        elif kind == "double_free" and self.dead and h.checks == "strict":
            h.free(self.pick(self.dead, op[1]))  # DoubleFree, the heap untouched
        elif kind == "write" and self.live:
            p = self.pick(self.live, op[1])
            n = min(op[2], h.block_of(p).requested if h.block_of(p) else 0)
            if n:
                p.write(bytes(range(n)))
                h.record_write(p, n)
        elif kind == "read" and (self.live or self.dead):
            p = self.pick(self.live + self.dead, op[1])
            _ = (p + op[2])[0]  # uninitialized, out of bounds or after free: an error
        elif kind == "lose" and self.live:
            self.live.pop(op[1] % len(self.live))  # its block may be lost now
        elif kind == "sbrk" and h.policy != "buddy":  # one power-of-two block: no sbrk
            h.sbrk(op[1])
        elif kind == "mmap":
            self.maps.append(h.mmap(op[1]))
        elif kind == "munmap" and self.maps:
            h.munmap(self.maps.pop(op[1] % len(self.maps)))
        elif kind == "enter" and len(self.frames) < 4:
            f = h.frame(op[1])
            f.__enter__()
            self.frames.append(f)
        elif kind == "local" and self.frames:
            self.frames[-1].alloc(op[1])
        elif kind == "leave" and self.frames:
            self.frames.pop().__exit__(None, None, None)
        elif kind == "note":
            h.note(op[1])

    def variables(self) -> dict[str, int]:
        """The program's pointers as the pictures name them."""
        return {f"p{i}": int(p) for i, p in enumerate(self.live[:8]) if int(p)}


@dataclass
class Seen:
    """What the live heap showed after one step."""

    step: int
    moment: dict[str, Any]
    blocks: list[heapviz.Block]
    free_lists: list[Any]
    stats: heapviz.Stats
    frames: list[tuple[str, int, int]]
    errors: list[tuple[str, int, int, str]]
    variables: dict[str, int]
    scene: dict[str, Any]
    bare_scene: dict[str, Any]
    records: dict[int, dict[str, Any]]


def observe(h: heapviz.Heap, past: history.History, prog: Program) -> Seen:
    now = past.now()
    v = prog.variables()
    return Seen(
        step=past.steps, moment=now.observables(), blocks=h.blocks(),
        free_lists=h.free_lists(), stats=h.stats(), frames=h._frames(),
        errors=[(type(e).__name__, e.address, e.access_size, e.report) for e in h.errors()],
        variables=v, scene=render.scene(h, width=WIDTH, vars=v),
        bare_scene=render.scene(h, width=WIDTH, vars=False),
        records=timeline.hover_records(now, h.policy == "buddy"),
    )


def errors_then(h: heapviz.Heap, past: history.History, step: int) -> list[Any]:
    """The errors recorded up to a step, from the history: class, address, size, report."""
    out = []
    for e in past.errors(step):
        cls = errors._CLASSES.get(e.a, errors.HeapError)
        info = h._site_info(e.b)
        out.append((cls.__name__, e.address, e.size, info[0] if info else ""))
    return out


def unpack(data: dict[str, Any], frame: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The items of one frame of the notebook's view, decoded from its tables."""
    kinds = ("rect", "box", "hatch", "line", "arrow", "text")
    out = []
    for i in frame["i"]:
        k, c, x, y, w, hh, a, scroll, *extra = data["items"][i]
        if kinds[k] == "text":
            extra = [data["strings"][extra[0]], extra[1]]
        out.append((kinds[k], data["colors"][c], x, y, w, hh, int(data["addrs"][a], 16),
                    scroll, *extra))
    return out


def pack(sc: dict[str, Any]) -> list[tuple[Any, ...]]:
    """A scene's items as unpack() gives them."""
    styles = ("solid", "dotted", "jagged", "thick")
    out = []
    for it in sc["items"]:
        extra: list[Any] = []
        if it["kind"] == "text":
            extra = [it.get("text", ""), (1 if it.get("small") else 0) |
                     (2 if it.get("bold") else 0)]
        elif it["kind"] == "box":
            extra = [styles.index(it.get("style", "solid"))]
        elif it["kind"] == "arrow":
            extra = [int(it.get("bend", 0))]
        out.append((it["kind"], it["color"], it["x"], it["y"], it["w"], it["h"],
                    int(it.get("addr", 0)), 1 if it.get("scroll") else 0, *extra))
    return out


def check_program(config: dict[str, Any], program: list[tuple[Any, ...]]) -> None:
    h = heapviz.Heap(max_size=1 << 20, **config)
    prog = Program(h)
    live_past = history.History(h)  # indexes the history as it grows
    seen: list[Seen] = [observe(h, live_past, prog)]
    quiet = io.StringIO()
    with contextlib.redirect_stderr(quiet):
        for op in program:
            prog.step(op)
            assert h.check() == [], f"after {op}"
            seen.append(observe(h, live_past, prog))
    # 1. the one replay, field by field
    past = history.History(h)
    for s in seen:
        then = past.at(s.step)
        assert then.observables() == s.moment, f"step {s.step}"
        assert then.blocks() == s.blocks and then.free_lists() == s.free_lists
        assert then.stats() == s.stats and then.frames() == s.frames
        assert errors_then(h, past, s.step) == s.errors
        assert render.scene(h, width=WIDTH, at=s.step, vars=s.variables) == s.scene
        assert timeline.hover_records(then, h.policy == "buddy") == s.records
    # 2. the notebook's view draws the same scene at every step
    data = timeline.timeline(h, width=WIDTH, max_frames=len(seen) + 1).data
    frames = {f["k"]: f for f in data["frames"]}
    assert set(frames) == {s.step for s in seen}
    for s in seen:
        assert unpack(data, frames[s.step]) == pack(s.bare_scene), f"notebook, step {s.step}"
    # 3. a recording of the run, saved, loaded and replayed
    rec = recording.loads(recording.Recording.from_heap(h).dumps())
    with contextlib.redirect_stderr(quiet):
        h2 = rec.replay()
    try:
        again = history.History(h2)
        assert again.steps == past.steps
        for s in seen:
            then = again.at(s.step)
            assert then.blocks() == s.blocks and then.free_lists() == s.free_lists
            assert then.stats() == s.stats and then.frames() == s.frames
            assert render.scene(h2, width=WIDTH, at=s.step, vars=s.variables) == s.scene
    finally:
        with contextlib.redirect_stderr(quiet):
            h2.checks = "off"
            h2.close()
    with contextlib.redirect_stderr(quiet):
        for f in reversed(prog.frames):
            f.__exit__(None, None, None)
        h.close()


@pytest.mark.parametrize("policy", options.POLICIES)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_heap_and_its_replay_agree_at_every_step(policy: str, data: st.DataObject) -> None:
    config = data.draw(configs(policy), label="config")
    program = data.draw(st.lists(OPS, max_size=30), label="program")
    check_program(config, program)


def test_a_program_with_every_kind_of_step() -> None:
    """One fixed program that takes every branch (hypothesis may miss some)."""
    program: list[tuple[Any, ...]] = [
        ("malloc", 24), ("malloc", 100), ("calloc", 4, 8), ("write", 0, 10), ("read", 0, 20),
        ("read", 1, 0), ("free", 1), ("read", 2, 0), ("double_free", 0),
        ("realloc", 0, 500), ("realloc", 1, 0), ("sbrk", 100), ("mmap", 5000),
        ("malloc", 20000), ("enter", "main"), ("local", 16), ("enter", "helper"),
        ("local", 40), ("leave",), ("note", "here"), ("lose", 0), ("munmap", 0),
        ("leave",), ("malloc", 8),
    ]
    for policy in options.POLICIES:
        for checks in ("strict", "report"):
            check_program({"policy": policy, "checks": checks, "mmap_threshold": 8192},
                          program)
