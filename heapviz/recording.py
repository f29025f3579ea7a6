"""Recordings: a heap's history, saved (.hvlog) and replayed into the same heap states.

    h.save("run.hvlog")                      # or heapviz.recording.save(h, "run.hvlog")
    rec = heapviz.load("run.hvlog")          # a Recording
    rec.steps                                # operations recorded
    rec.state(3).free_list                   # the heap after 3 operations (blocks, stats too)
    h2 = rec.replay()                        # a live Heap with the same history (for show())
    rec.render("step3.png", step=3)          # a picture of any step

The file format is heapviz.hvlog's (docs/recording.md).

Replaying re-runs the recorded operations, in order, through a fresh heap's own calls
(malloc, free, … at the recorded lines, so the replay's sites are the recording's): a script
run again, not a model of the allocator — the core is deterministic and addresses are base +
offset, so the heap comes out the same.  It checks that every event comes out as recorded:
the addresses, sizes and flags of every malloc, split, coalesce and growth.  Events that
re-running cannot produce (access errors, notes, writes) are recorded into the replay as they
were.  A replay that diverges raises RecordingError naming the step.  The pictures of past
steps come from the one C replay (viz/replay.c) of the replayed heap.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import CodeType
from typing import Any

from heapviz import _core, callsite, errors, hvlog, render
from heapviz._core import NULL, Pointer
from heapviz.errors import HeapError
from heapviz.heap import Heap
from heapviz.hvlog import (  # noqa: F401 - the format's names, as they were found here
    DEFAULTS,
    FINAL_STATS,
    KINDS,
    MAGIC,
    VERSION,
    RawEvent,
    RecordingError,
    _core_config,
    _final,
    config_of,
)
from heapviz.records import Block, Event, Stats

EVF_SUB, EVF_FAILED = _core.EVF_SUB, _core.EVF_FAILED
ERR_DOUBLE_FREE, ERR_INVALID_FREE = _core.ERR_DOUBLE_FREE, _core.ERR_INVALID_FREE
KIND_ID = hvlog.KIND_ID


@dataclass(frozen=True)
class HeapState:
    """The heap after `step` operations of a recording."""

    step: int
    events: list[Event]  # the events of that step (empty for step 0)
    blocks: list[Block]
    free_list: list[Block]
    stats: Stats
    brk: int


class Recording(hvlog.Log):
    """A loaded recording: configuration, sites and events (heapviz.hvlog), and replays
    of them."""

    def replay(self, upto: int | None = None, *, overrides: dict[str, Any] | None = None,
               verify: bool = True) -> Heap:
        """A fresh, live Heap after the first `upto` operations (all by default), with the
        same history: show() it, render it, go on calling malloc on it.

        `overrides` change the configuration (another policy, say): the operations are then
        re-run on their own terms (a free frees what the matching malloc returned), and
        `verify` (on by default, off with overrides) is not possible.  The caller closes it."""
        if upto is not None:
            self._check_step(upto)
        r = _Replayer(self, overrides, verify and not overrides)
        try:
            r.run(self.steps if upto is None else upto)
        except BaseException:
            r.discard()
            raise
        return r.finish(full=upto is None or upto == self.steps)

    def heap_at(self, step: int) -> Heap:
        """The heap after `step` operations, live (the caller closes it)."""
        return self.replay(step)

    def state(self, step: int) -> HeapState:
        """The heap after `step` operations: blocks, free list, stats (step 0: empty heap)."""
        self._check_step(step)
        h = self.replay(step)
        try:
            return self._state_of(h, step)
        finally:
            _quiet_close(h)

    def states(self) -> Iterator[HeapState]:
        """The heap after every step, 0 to steps, from one replay."""
        r = _Replayer(self, None, True)
        try:
            yield self._state_of(r.h, 0)
            for k in range(1, self.steps + 1):
                r.run(k)
                yield self._state_of(r.h, k)
        finally:
            r.discard()

    def _state_of(self, h: Heap, step: int) -> HeapState:
        events = self.step_events(step) if step else []
        return HeapState(step, events, h.blocks(), h.free_list(), h.stats(), int(h.brk))

    # --- pictures -------------------------------------------------------------------------
    def render(self, path: str | None = None, step: int | None = None, width: int = 1200,
               **opts: Any) -> bytes:
        """A PNG of the heap after `step` operations (the end by default)."""
        if step is not None:
            self._check_step(step)
        r = _Replayer(self, None, True)
        try:
            r.run(self.steps)
            at = r.step_ops[self.steps if step is None else step]
            return render.render_png(r.h, path, width=width, at=at, vars=False, **opts)
        finally:
            r.discard()

    def render_timeline(self, path: str, **opts: Any) -> int:
        """An animated GIF/APNG of the whole recording (see heapviz.render.render_timeline)."""
        h = self.replay()
        try:
            return render.render_timeline(h, path, **opts)
        finally:
            _quiet_close(h)

    # --- writing --------------------------------------------------------------------------


def load(path: str | os.PathLike[str]) -> Recording:
    """Read a recording written by Heap.save(); RecordingError names what is wrong."""
    return hvlog.load(path, Recording)


def loads(data: bytes | str, path: str = "<recording>") -> Recording:
    """Parse a recording from bytes (or text) already in memory."""
    return hvlog.loads(data, path, Recording)


def save(h: Heap, path: str | os.PathLike[str]) -> None:
    """Write h's recorded history to `path` (what Heap.save does)."""
    hvlog.save(h, path)


def _quiet_close(h: Heap) -> None:
    """Close a replay heap without a leak summary (the recording's leaks are not news)."""
    if h.closed:
        return
    with contextlib.redirect_stderr(io.StringIO()):
        h.checks = "off"
        h.close()


# --------------------------------------------------------------------------------------------
# Replaying
# --------------------------------------------------------------------------------------------


class _Replayer:
    """Re-runs a recording's operations on a fresh heap, step by step."""

    def __init__(self, rec: Recording, overrides: dict[str, Any] | None, verify: bool) -> None:
        self.rec, self.verify = rec, verify
        cfg = {**rec.config, **(overrides or {})}
        self.checks = cfg.get("checks", "strict")
        opts = {k: v for k, v in cfg.items() if k in DEFAULTS}
        opts["history_limit"] = max(1_000_000, 2 * len(rec.raw) + 1024)
        try:
            self.h = Heap(**opts)
        except (ValueError, TypeError, OverflowError, OSError) as e:
            raise RecordingError(rec.path, f"cannot make its heap: {e}") from None
        # Made in the recorded mode (the binding keeps shadow memory only when checks are
        # on), then quiet while replaying: what the recording did is re-done, not judged.
        self.h.checks = "off"
        self.ptrs: dict[int, Pointer] = {}  # recorded payload -> pointer (latest)
        self.old: dict[int, Pointer] = {}  # ... and the one before it (double frees)
        self.sizes: dict[int, int] = {}  # recorded payload -> requested (live blocks)
        self.codes: dict[int, CodeType] = {}
        self.site_ids: dict[int, int] = {}
        self.pos = 0  # next recorded event to match
        self.seen = 0  # replay events looked at
        self.done = 0  # steps done
        self.step_ops = [0]  # replay operations after each step (for render's `at`)
        self._last_op = 0
        self._ops = 0

    # --- sites ----------------------------------------------------------------------------
    def _site(self, sid: int) -> int:
        """The replay heap's id for a recorded site."""
        if not sid:
            return 0
        if sid not in self.site_ids:
            file, line, func = self.rec.sites[sid]
            self.site_ids[sid] = int(self.h._intern(file, line, func))
        return self.site_ids[sid]

    def _at(self, sid: int, fn: Callable[[], Any]) -> Any:
        """Run fn as if called from the recorded site (so the replay's sites are the same)."""
        if not sid or sid not in self.rec.sites:
            return fn()
        code = self.codes.get(sid)
        if code is None:
            file, line, func = self.rec.sites[sid]
            code = self.codes[sid] = callsite.site_code(file, line, func)
        return callsite.call_at(code, fn)

    # --- pointers -------------------------------------------------------------------------
    def _ptr(self, addr: int, stale: bool = False) -> Pointer:
        """A pointer for a recorded address, with the provenance its block gives it.

        `stale`: the pointer a double free used — the one of the block's previous life when
        the address is live again."""
        if not addr:
            return NULL
        if stale and addr in self.sizes and addr in self.old:
            return self.old[addr]  # live again: the pointer of its previous life
        p = self.ptrs.get(addr)
        if p is not None:
            return p
        if self.verify:  # the replay's addresses are the recording's: ask the heap
            with contextlib.suppress(Exception):
                b = self.h.block_of(addr)
                if b is not None and b.payload in self.ptrs:
                    return self.ptrs[b.payload] + (addr - b.payload)
        for base, size in self.sizes.items():
            if base <= addr < base + max(1, size) and base in self.ptrs:
                return self.ptrs[base] + (addr - base)
        return Pointer(addr)

    def _keep(self, recorded: int, p: Any, size: int) -> None:
        if isinstance(p, Pointer) and recorded:
            if recorded in self.ptrs and recorded not in self.sizes:  # freed, now reused
                self.old[recorded] = self.ptrs[recorded]
            self.ptrs[recorded] = p
            self.sizes[recorded] = size

    # --- running --------------------------------------------------------------------------
    def run(self, upto: int) -> None:
        groups = self.rec._groups
        while self.done < upto:
            lo, hi = groups[self.done]
            self.done += 1
            if self.pos < hi:
                if self.verify and self.pos > lo:
                    self._diverged(self.pos, "an earlier step made only part of this one")
                self._step(max(lo, self.pos) if self.verify else lo, hi)
            self.step_ops.append(self._ops)

    def _new_events(self) -> list[RawEvent]:
        _, count = self.h._history()
        new = [tuple(t) for t in self.h._events(self.seen, count)]
        self.seen = count
        for t in new:
            if t[1] != self._last_op:
                self._last_op = t[1]
                self._ops += 1
        return new  # type: ignore[return-value]

    def _step(self, lo: int, hi: int) -> None:
        evs = self.rec.raw[lo:hi]
        try:
            self._act(evs)
        except RecordingError:
            raise
        except Exception as e:  # the replay went somewhere the recording did not
            self._diverged(lo, f"replaying {KINDS[evs[0][2]]} raised {type(e).__name__}: "
                           f"{str(e).splitlines()[0] if str(e) else ''}")
        new = self._new_events()
        if not self.verify:
            self.pos = hi
            return
        if not new:
            self._diverged(lo, f"re-running {KINDS[evs[0][2]]} recorded nothing")
        for i, got in enumerate(new):
            j = lo + i
            if j >= len(self.rec.raw):
                self._diverged(j, f"the replay made an extra {KINDS[got[2]]} event")
            want = self.rec.raw[j]
            if _key(got) != _key(want):
                self._diverged(j, f"recorded {_show(want)}, the replay made {_show(got)}")
        self.pos = lo + len(new)

    def _diverged(self, j: int, what: str) -> None:
        seq = self.rec.raw[j][0] if j < len(self.rec.raw) else j
        raise RecordingError(
            self.rec.path, f"the replay diverges at step {self.done} (event {seq}): {what}. "
            "The file was edited, or made by a run the replay cannot reproduce (bytes written "
            "out of bounds in checks='report' mode by a Python script); replay(verify=False) "
            "re-runs it anyway")

    def _rerecord(self, evs: list[RawEvent]) -> None:
        for t in evs:
            _, _, kind, flags, site, addr, size, a, b = t
            if kind == _core.EV_ERROR:
                b = self._site(b)
            elif kind == _core.EV_NOTE:
                a = self._site(a)
            self.h._record(kind, addr, size, a, b, self._site(site), flags)

    def _act(self, evs: list[RawEvent]) -> None:
        """Do what the operation did: re-run it, or record its events as they were."""
        h = self.h
        prim = next((t for t in evs if not t[3] & EVF_SUB), evs[0])
        _, _, kind, flags, site, addr, size, a, b = prim
        k = KINDS[kind]
        if flags & EVF_FAILED and k == "free":
            self._bad_free(prim)  # refused by the allocator: refused again
            return
        if flags & EVF_FAILED:
            if k in ("malloc", "calloc", "realloc") and size < 1 << 62:
                old = self._ptr(a) if k == "realloc" else None
                self._at(site, lambda: h.realloc(old, size) if old is not None else (
                    h.malloc(size) if k == "malloc" else h.calloc(1, size)))
            else:
                self._rerecord(evs)
            return
        if k in ("malloc", "calloc"):
            p = self._at(site, lambda: h.malloc(size) if k == "malloc" else h.calloc(1, size))
            self._keep(addr, p, size)
        elif k == "realloc":
            old = self._ptr(a)
            p = self._at(site, lambda: h.realloc(old, size))
            del old
            if size == 0 and not addr:
                self.sizes.pop(a, None)
            else:
                if addr != a:
                    self.sizes.pop(a, None)
                self._keep(addr, p, size)
        elif k == "free":
            p = self._ptr(addr)
            self._at(site, lambda: h.free(p))
            self.sizes.pop(addr, None)
        elif k == "grow":
            lay = h.layout
            n = a or self.rec.requests.get(prim[0]) or max(
                1, size - lay["header_size"] - lay["footer_size"])
            self._at(site, lambda: h.sbrk(n))
        elif k == "shrink":
            self._at(site, lambda: h.sbrk(-size))
        elif k == "mmap":
            n = a or self.rec.requests.get(prim[0]) or size
            p = self._at(site, lambda: h.mmap(n))
            self._keep(addr, p, size)
        elif k == "munmap":
            p = self._ptr(addr)
            self._at(site, lambda: h.munmap(p))
            self.sizes.pop(addr, None)
        elif k == "frame_push":  # b: the frame's name, interned as a site's file
            name = self.rec.sites.get(b, ("frame",))[0] or "frame"
            self._at(site, lambda: h._frame_push(name))
        elif k == "frame_pop":
            self._at(site, lambda: h._frame_pop())
        elif k == "stack_alloc":
            p = self._at(site, lambda: h._frame_alloc(size))
            self._keep(addr, p, size)
        elif k == "write":
            self._write(prim)
        elif k == "lost":
            self._lose(prim, evs)
        elif k == "error" and a in (ERR_DOUBLE_FREE, ERR_INVALID_FREE):
            self._bad_free(prim)
        else:
            self._rerecord(evs)

    def _write(self, t: RawEvent) -> None:
        """The bytes written (when the recording has them; else the bytes already there, so
        that the shadow marks them written), then the write event itself."""
        seq, _, _, _, _, addr, size, _, _ = t
        h = self.h
        blob = self.rec.data.get(seq)
        if size:
            if blob is None:
                with contextlib.suppress(Exception):
                    blob = bytes(h._raw_read(addr, size))
            if blob is not None:
                p = self._ptr(addr)
                with contextlib.suppress(HeapError, ValueError, TypeError):
                    p.write(blob)
        self._rerecord([t])

    def _lose(self, t: RawEvent, evs: list[RawEvent]) -> None:
        """Drop the replay's pointer to the block, as the script dropped its own: the binding
        then records the loss itself (at the recorded site)."""
        addr = t[5]
        before = self.h._history()[1]

        def drop() -> None:
            self.ptrs.pop(addr, None)

        self._at(t[4], drop)
        if self.h._history()[1] == before:
            self._rerecord(evs)

    def _bad_free(self, t: RawEvent) -> None:
        """A free the allocator or the binding refused (its FAILED free event or its error
        event): re-run it, in the recorded checks mode, quietly; the errors it makes are
        worded as the recording has them (the next few error events from here)."""
        h = self.h
        p = self._ptr(t[5], stale=t[2] == _core.EV_FREE or t[7] == ERR_DOUBLE_FREE)
        start = t[0]  # an event's seq is its index in the recording
        reports = [self.rec.sites[e[8]][0] for e in self.rec.raw[start:start + 4]
                   if e[2] == _core.EV_ERROR and e[8] in self.rec.sites] if self.verify else []
        h.checks = self.checks
        try:
            with contextlib.redirect_stderr(io.StringIO()), contextlib.suppress(
                    HeapError), errors.recorded_reports(reports):
                self._at(t[4], lambda: h.free(p))
        finally:
            h.checks = "off"

    # --- the end --------------------------------------------------------------------------
    def finish(self, full: bool) -> Heap:
        h = self.h
        if full and self.verify and self.pos != len(self.rec.raw):
            self._diverged(self.pos, "the replay ended before the recording did")
        if full and self.verify and self.rec.final:
            got = _final(h)
            # A call the allocator refused because its heap was corrupted leaves only its
            # error event (not its arguments): the replay cannot count it in n_malloc & co.
            corrupt = any(t[2] == _core.EV_ERROR and t[7] == _core.ERR_CORRUPTION
                          for t in self.rec.raw)
            for key, want in self.rec.final.items():
                if corrupt and key.startswith("n_"):
                    continue
                if key in got and got[key] != want:
                    self.discard()
                    raise RecordingError(
                        self.rec.path, f"the replayed heap differs from the recorded one at "
                        f"the end: {key} is {got[key]}, the recording says {want}")
        h.checks = self.checks
        # The script's pointers, kept with the heap (a pointer dying would record a loss).
        h.hold((self.ptrs, self.old))
        return h

    def discard(self) -> None:
        self.ptrs.clear()
        self.old.clear()
        _quiet_close(self.h)


def _key(t: RawEvent) -> tuple[int, ...]:
    """What must match between a recorded event and its replay (site ids may differ)."""
    _, _, kind, flags, _, addr, size, a, b = t
    if kind in (_core.EV_ERROR, KIND_ID["frame_push"]):
        b = 0
    elif kind == _core.EV_NOTE:
        a = 0
    return (kind, flags, addr, size, a, b)


def _show(t: RawEvent) -> str:
    _, _, kind, flags, _, addr, size, a, b = t
    return f"{KINDS[kind]}(address={addr:#x}, size={size}, a={a:#x}, b={b:#x}, flags={flags})"
