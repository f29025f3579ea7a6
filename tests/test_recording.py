"""Recordings (.hvlog): save, load, replay into the same states, and clear errors on bad files."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import heapviz
from heapviz import recording, render
from heapviz.recording import Recording, RecordingError

needs_renderer = pytest.mark.skipif(not render.available(), reason="the SDL renderer is not built")


def quiet_close(h: heapviz.Heap) -> None:
    h.checks = "off"
    with contextlib.redirect_stderr(io.StringIO()):
        h.close()


def snapshot(h: heapviz.Heap) -> tuple[Any, ...]:
    s = h.stats()
    stats = {k: v for k, v in vars(s).items() if k not in ("extra", "n_errors")}
    return (h.blocks(), h.free_list(), stats, int(h.brk))


def steps_of(h: heapviz.Heap) -> int:
    ops: set[int] = {e.op for e in h.events}
    return len(ops)


def sample_heap(**kw: Any) -> heapviz.Heap:
    h = heapviz.Heap(**kw)
    a = h.malloc(100)
    b = h.calloc(10, 4)
    a = h.realloc(a, 300)
    h.free(b)
    c = h.malloc(6000)  # grows the heap
    h.note("a note")
    with contextlib.suppress(heapviz.DoubleFree):
        h.free(b)
    with contextlib.suppress(heapviz.BufferOverflow):
        a[300] = 1
    h.malloc(50)  # dropped at once: a lost block
    m = h.malloc(200_000)  # an mmapped chunk
    h.free(m)
    h.h_keep = (a, c)  # type: ignore[attr-defined]
    return h


# --------------------------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------------------------


def test_save_load_replay_reproduces_every_step(tmp_path: Path) -> None:
    h = heapviz.Heap(policy="best", order="lifo")
    snaps = {0: snapshot(h)}
    ptrs = []
    for n in (100, 20, 300, 40, 5000):
        ptrs.append(h.malloc(n))
        snaps[steps_of(h)] = snapshot(h)
    for p in ptrs[::2]:
        h.free(p)
        snaps[steps_of(h)] = snapshot(h)
    ptrs[1] = h.realloc(ptrs[1], 64)
    snaps[steps_of(h)] = snapshot(h)
    h.save(str(tmp_path / "r.hvlog"))
    assert isinstance(heapviz.load(str(tmp_path / "r.hvlog")), Recording)  # the public door
    rec = recording.load(str(tmp_path / "r.hvlog"))
    assert rec.steps == max(snaps)
    for k, want in snaps.items():
        st_ = rec.state(k)
        assert (st_.blocks, st_.free_list, {k2: v for k2, v in vars(st_.stats).items()
                                            if k2 not in ("extra", "n_errors")}, st_.brk) == want
    assert [s.step for s in rec.states()] == list(range(rec.steps + 1))
    assert rec.step_events(1)[-1].kind == "malloc"
    quiet_close(h)


def test_replay_is_a_live_heap_with_the_same_history(tmp_path: Path) -> None:
    h = sample_heap()
    path = tmp_path / "s.hvlog"
    h.save(str(path))
    rec = recording.load(str(path))
    h2 = rec.replay()
    assert snapshot(h2) == snapshot(h)
    got = [(e.kind, e.flags, e.address, e.size, str(e.site)) for e in h2.events]
    want = [(e.kind, e.flags, e.address, e.size, str(e.site)) for e in h.events]
    assert got == want
    # the refused free is re-run (its report's first lines are the same; the stack above the
    # recorded site is the replay's own)
    assert [str(e).splitlines()[:2] for e in h2.errors()] == [
        str(e).splitlines()[:2] for e in h.errors()][:1]
    assert h2.malloc(10)  # it is live
    assert rec.config["policy"] == "first" and rec.config["size"] == 4096
    quiet_close(h2)
    quiet_close(h)


def test_gzip_and_loads(tmp_path: Path) -> None:
    h = sample_heap(policy="segregated")
    h.save(str(tmp_path / "s.hvlog.gz"))
    data = (tmp_path / "s.hvlog.gz").read_bytes()
    assert data[:2] == b"\x1f\x8b"
    rec = recording.load(str(tmp_path / "s.hvlog.gz"))
    assert rec.raw == Recording.from_heap(h).raw
    assert recording.loads(gzip.decompress(data)).steps == rec.steps
    assert recording.loads(gzip.decompress(data).decode()).steps == rec.steps
    quiet_close(h)


def test_file_format_is_documented_json_lines(tmp_path: Path) -> None:
    h = heapviz.Heap()
    p = h.malloc(24)
    h.free(p)
    h.save(str(tmp_path / "f.hvlog"))
    lines = (tmp_path / "f.hvlog").read_text().splitlines()
    head = json.loads(lines[0])
    assert head["format"] == "heapviz-recording" and head["version"] == 1
    assert head["events"] == len(lines) - 2 - head["sites"] and head["steps"] == 2
    assert json.loads(lines[1])[0] == "site"
    assert json.loads(lines[-2])[:4] == ["event", len(lines) - 3 - head["sites"], 2, "free"]
    assert "end" in json.loads(lines[-1])
    quiet_close(h)


def test_config_of_a_plain_heap(tmp_path: Path) -> None:
    want = dict(size=8192, max_size=1 << 20, policy="worst", order="size",
                coalesce="deferred", align=8, footer=False, magic=True, base=0x40000,
                mmap_threshold=0, split_threshold=64, stack_size=8192)
    h = heapviz.Heap(**want)  # type: ignore[arg-type]
    h.malloc(10000)
    cfg = recording.config_of(h)
    assert {k: cfg[k] for k in want} == want
    assert recording._core_config(h) == want
    h.save(str(tmp_path / "c.hvlog"))
    h2 = recording.load(str(tmp_path / "c.hvlog")).replay()
    assert h2.blocks() == h.blocks()
    quiet_close(h2)
    quiet_close(h)


def test_what_cannot_be_saved() -> None:
    h = heapviz.Heap(history_limit=4)
    for _ in range(4):
        h.free(h.malloc(8))
    with pytest.raises(ValueError, match="history was truncated"):
        recording.save(h, "/nonexistent/x.hvlog")
    quiet_close(h)
    with pytest.raises(ValueError, match="heap is closed"):
        recording.save(h, "/nonexistent/x.hvlog")
    h = heapviz.Heap(record=False)
    h.malloc(8)
    with pytest.raises(ValueError, match="record=False"):
        recording.save(h, "/nonexistent/x.hvlog")
    quiet_close(h)
    with pytest.raises(TypeError):
        recording.save("not a heap", "x.hvlog")  # type: ignore[arg-type]


def test_steps_are_checked() -> None:
    h = heapviz.Heap()
    p = h.malloc(8)
    rec = Recording.from_heap(h)
    with pytest.raises(IndexError, match=r"steps 0\.\.1"):
        rec.state(2)
    with pytest.raises(IndexError):
        rec.step_events(0)
    with pytest.raises(TypeError):
        rec.state("1")  # type: ignore[arg-type]
    del p
    quiet_close(h)


def test_replay_under_another_policy() -> None:
    h = sample_heap()
    rec = Recording.from_heap(h)
    h2 = rec.replay(overrides={"policy": "buddy"})
    assert h2.policy == "buddy"
    assert h2.stats().n_malloc == h.stats().n_malloc
    quiet_close(h2)
    quiet_close(h)


@needs_renderer
def test_pictures_of_any_step(tmp_path: Path) -> None:
    h = sample_heap()
    rec = Recording.from_heap(h)
    for k in (0, 3, rec.steps):
        assert rec.render(step=k, width=500) == render.render_png(h, width=500, at=k,
                                                                  vars=False)
    assert rec.render_timeline(str(tmp_path / "t.gif"), width=300, max_frames=5) == 5
    quiet_close(h)


# --------------------------------------------------------------------------------------------
# Replay fidelity, fuzzed: every policy, random operations, errors included
# --------------------------------------------------------------------------------------------

OPS = st.lists(st.one_of(
    st.tuples(st.just("malloc"), st.integers(0, 3000) | st.just(100_000_000)),
    st.tuples(st.just("calloc"), st.integers(0, 300)),
    st.tuples(st.just("realloc"), st.integers(0, 40),
              st.integers(0, 3000) | st.just(100_000_000)),
    st.tuples(st.just("free"), st.integers(0, 40)),
    st.tuples(st.just("drop"), st.integers(0, 40)),
    st.tuples(st.just("double"), st.integers(0, 40)),
    st.tuples(st.just("interior"), st.integers(0, 40)),
    st.tuples(st.just("overflow"), st.integers(0, 40)),
    st.tuples(st.just("sbrk"), st.integers(1, 5000)),
    st.tuples(st.just("big"), st.integers(130_000, 300_000)),
), max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(["first", "next", "best", "worst", "segregated", "buddy"]),
       st.sampled_from(["address", "lifo", "size"]), st.sampled_from(["immediate", "none"]),
       OPS)
def test_fuzz_replay_reproduces_every_state(policy: str, order: str, coalesce: str,
                                            ops: list[tuple[Any, ...]]) -> None:
    h = heapviz.Heap(policy=policy, order=order, coalesce=coalesce, max_size=1 << 20)
    live: list[Any] = []
    freed: list[Any] = []
    snaps = {0: snapshot(h)}
    for op in ops:
        kind = op[0]
        def pick(i, pool=live):
            return (pool[i % len(pool)] if pool else None)
        try:
            if kind == "malloc":
                live.append(h.malloc(op[1]))
            elif kind == "calloc":
                live.append(h.calloc(op[1], 4))
            elif kind == "big":
                live.append(h.malloc(op[1]))
            elif kind == "sbrk":
                h.sbrk(op[1])
            elif live and kind == "realloc":
                i = op[1] % len(live)
                live[i] = h.realloc(live[i], op[2])
            elif live and kind in ("free", "drop"):
                p = live.pop(op[1] % len(live))
                if kind == "free":
                    h.free(p)
                    freed.append(p)
                del p
            elif freed and kind == "double":
                h.free(freed[op[1] % len(freed)])
            elif live and kind == "interior":
                p = pick(op[1])
                if p:
                    h.free(p + 1)
            elif live and kind == "overflow":
                p = pick(op[1])
                if p:
                    b = h.block_of(p)
                    if b is not None and b.allocated:
                        p[b.requested] = 1
        except (heapviz.HeapError, ValueError):  # sbrk on a buddy heap, say
            pass
        snaps[steps_of(h)] = snapshot(h)
    rec = recording.loads(_saved(h))
    states = {s.step: s for s in rec.states()}
    for k, want in snaps.items():
        s = states[k]
        got = (s.blocks, s.free_list, {k2: v for k2, v in vars(s.stats).items()
                                        if k2 not in ("extra", "n_errors")}, s.brk)
        assert got == want, k
    live.clear()
    freed.clear()
    quiet_close(h)


def _saved(h: heapviz.Heap) -> bytes:
    return Recording.from_heap(h).dumps()


# --------------------------------------------------------------------------------------------
# Damaged and foreign files
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good() -> bytes:
    h = sample_heap()
    data = _saved(h)
    quiet_close(h)
    return data


def _edit(data: bytes, fn: Any) -> bytes:
    lines = data.decode().splitlines()
    fn(lines)
    return ("\n".join(lines) + "\n").encode()


def _set_event(lines: list[str], kind: str, field: int, value: Any) -> None:
    for i, line in enumerate(lines):
        rec = json.loads(line)
        if isinstance(rec, list) and rec[0] == "event" and rec[3] == kind:
            rec[field] = value
            lines[i] = json.dumps(rec)
            return
    raise AssertionError(kind)


DAMAGE: list[tuple[str, Any, str]] = [
    ("empty", lambda d: b"", "empty file"),
    ("png", lambda d: b"\x89PNG\r\n\x1a\n" + d[:50], "not a heapviz recording"),
    ("json but foreign", lambda d: b'{"format": "other"}\n', "not a heapviz recording"),
    ("newer", lambda d: d.replace(b'"version":1', b'"version":9', 1), "newer heapviz"),
    ("truncated", lambda d: d[: len(d) // 2].rsplit(b"\n", 1)[0] + b"\n", "truncated"),
    ("cut mid line", lambda d: d[: len(d) - 30], "damaged"),
    ("bad utf8", lambda d: d.replace(b"note", b"n\xffte", 1), "UTF-8"),
    ("bad config", lambda d: d.replace(b'"policy":"first"', b'"policy":"fastest"', 1),
     "config policy='fastest' is not one of"),
    ("unknown kind", lambda d: _edit(d, lambda ls: _set_event(ls, "free", 3, "explode")),
     "unknown event kind 'explode'"),
    ("negative number", lambda d: _edit(d, lambda ls: _set_event(ls, "free", 6, -5)),
     "whole numbers from 0"),
    ("missing event", lambda d: _edit(d, lambda ls: ls.pop(len(ls) // 2 + 3)), "out of order"),
    ("moved address", lambda d: _edit(d, lambda ls: _set_event(ls, "malloc", 6, 0x10020)),
     "diverges at step 1"),
    ("bad site", lambda d: _edit(d, lambda ls: _set_event(ls, "free", 5, 999)),
     "site 999, which is not defined"),
    ("gzip garbage", lambda d: b"\x1f\x8b\x08\x00garbage", "damaged compressed data"),
    ("deep json", lambda d: d.split(b"\n")[0] + b"\n" + b"[" * 100000 + b"\n", "not a JSON"),
    ("extra line", lambda d: d + b'["event"]\n', "after the end line"),
]


@pytest.mark.parametrize(("name", "damage", "words"), DAMAGE, ids=[d[0] for d in DAMAGE])
def test_damaged_files_give_clear_errors(good: bytes, tmp_path: Path, name: str, damage: Any,
                                         words: str) -> None:
    path = tmp_path / "bad.hvlog"
    path.write_bytes(damage(good))
    with pytest.raises(RecordingError) as info:
        rec = recording.load(str(path))
        quiet_close(rec.replay())
    assert words in str(info.value), str(info.value)
    assert str(info.value).startswith(str(path))
    assert isinstance(info.value, ValueError)


def test_missing_file() -> None:
    with pytest.raises(RecordingError, match="cannot read it"):
        recording.load("/nonexistent/nothing.hvlog")


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_fuzz_mutated_recordings_raise_only_recording_errors(good: bytes,
                                                             data: st.DataObject) -> None:
    blob = bytearray(good)
    for _ in range(data.draw(st.integers(1, 4))):
        how = data.draw(st.sampled_from(["flip", "delete", "insert", "digit"]))
        i = data.draw(st.integers(0, len(blob) - 1))
        if how == "flip":
            blob[i] ^= 1 << data.draw(st.integers(0, 7))
        elif how == "delete":
            del blob[i:i + data.draw(st.integers(1, 40))]
        elif how == "insert":
            blob[i:i] = data.draw(st.binary(min_size=1, max_size=8))
        else:
            blob[i:i + 1] = data.draw(st.sampled_from([b"0", b"9", b"1", b"-", b"]", b"\n"]))
        if not blob:
            break
    _load_and_replay(bytes(blob))


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_fuzz_random_bytes_raise_only_recording_errors(blob: bytes) -> None:
    _load_and_replay(blob)


def _load_and_replay(blob: bytes) -> None:
    try:
        rec = recording.loads(blob, "fuzz.hvlog")
    except RecordingError as e:
        assert str(e).startswith("fuzz.hvlog")
        return
    try:
        h = rec.replay()
    except RecordingError as e:
        assert str(e).startswith("fuzz.hvlog")
        return
    quiet_close(h)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(["strict", "report"]),
       st.sampled_from(["first", "next", "best", "segregated", "buddy"]),
       st.lists(st.sampled_from([
           "p = malloc 40", "q = malloc 100", "r = calloc 3 8", "p = realloc p 200",
           "q = realloc q 0", "free p", "free q", "free r", "free p + 4", 'write p "abc"',
           "write q[100] 1", "write p:int[2] 9", "read r 8", "read p 2", "p = NULL",
           'note "hi"', "enter f", "l = local 24", "write l[0] 1", "leave", "sbrk 100",
           "m = mmap 5000", "munmap m", 'strcpy q "too long for a few bytes, surely"',
       ]), max_size=16))
def test_fuzz_scenario_runs_replay_exactly(checks: str, policy: str, lines: list[str]) -> None:
    from heapviz import scenario

    sc = scenario.parse("\n".join(lines), "fz.hv")
    h = scenario.make_heap({"checks": checks, "policy": policy})
    runner = scenario.Runner(sc, h)
    with contextlib.redirect_stderr(io.StringIO()):
        runner.run()
    rec = recording.loads(Recording.from_heap(h).dumps())
    with contextlib.redirect_stderr(io.StringIO()):
        h2 = rec.replay()
    assert (h2.blocks(), h2.free_list(), int(h2.brk)) == (h.blocks(), h.free_list(), int(h.brk))
    assert [(e.kind, e.address, e.size, str(e.site)) for e in h2.events] == [
        (e.kind, e.address, e.size, str(e.site)) for e in h.events]
    runner.vars.clear()
    quiet_close(h2)
    quiet_close(h)


def test_a_replayed_frame_keeps_its_name(tmp_path: Path) -> None:
    """h.frame("main") is "main" in the recording's replay too (it was named after the
    function that called h.frame: <module>)."""
    h = heapviz.Heap()
    with h.frame("main") as f:
        f.alloc(8)
        with h.frame("helper") as g:
            g.alloc(16)
            want = h._frames()
            h.save(str(tmp_path / "frames.hvlog"))
    quiet_close(h)
    rec = heapviz.load(str(tmp_path / "frames.hvlog"))
    again = rec.replay()
    assert [f[0] for f in again._frames()] == ["main", "helper"]
    assert again._frames() == want
    quiet_close(again)
