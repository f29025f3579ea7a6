"""Recordings: a heap's history saved to a file (.hvlog) and replayed into the same heap states.

    h.save("run.hvlog")                      # or heapviz.recording.save(h, "run.hvlog")
    rec = heapviz.load("run.hvlog")          # a Recording
    rec.steps                                # operations recorded
    rec.state(3).free_list                   # the heap after 3 operations (blocks, stats too)
    h2 = rec.replay()                        # a live Heap with the same history (for show())
    rec.render("step3.png", step=3)          # a picture of any step

The file (docs/recording.md) is UTF-8 JSON lines, gzip-compressed when the name ends in
".gz": a header object (magic "heapviz-recording", format version, the heap configuration,
counts), the call sites (file, line, function; error reports and notes are sites too), one
line per event, and an end object with a summary of the final heap.

Replaying re-runs the recorded operations, in order, on a fresh heap of the same
configuration (the core is deterministic and addresses are base + offset), and checks that
every event comes out as recorded: the addresses, sizes and flags of every malloc, split,
coalesce and growth.  Events that re-running cannot produce (access errors, notes, writes)
are recorded into the replay as they were.  A file that is damaged, truncated, foreign, of a
newer version, or whose replay diverges raises RecordingError (a ValueError) naming the line
or the step, never anything else.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import CodeType
from typing import Any

import heapviz
from heapviz import _core, options
from heapviz.records import Block, Event, Site, Stats

MAGIC = "heapviz-recording"
VERSION = 1
U64 = (1 << 64) - 1
KINDS: tuple[str, ...] = tuple(_core.EVENT_KINDS)
KIND_ID = {name: i for i, name in enumerate(KINDS)}

# Event kinds and flags (include/heapviz/heapviz.h).
EVF_SUB, EVF_FAILED = _core.EVF_SUB, _core.EVF_FAILED
ERR_DOUBLE_FREE, ERR_INVALID_FREE = _core.ERR_DOUBLE_FREE, _core.ERR_INVALID_FREE

DEFAULTS: dict[str, Any] = {k: options.DEFAULTS[k] for k in options.SAVED}
# The final-state summary written at the end and compared after a full replay.
FINAL_STATS = ("heap_size", "brk_size", "in_use", "payload", "peak_payload", "free_bytes",
               "largest_free", "free_blocks", "alloc_blocks", "n_malloc", "n_calloc",
               "n_realloc", "n_free", "n_failed", "n_split", "n_coalesce", "n_grow")


class RecordingError(ValueError):
    """A recording that cannot be read or replayed: `path`, `line` (0: the whole file), and
    the reason."""

    def __init__(self, path: str, reason: str, line: int = 0) -> None:
        self.path, self.line, self.reason = path, line, reason
        where = f"{path}, line {line}" if line else path
        super().__init__(f"{where}: {reason}")


# --------------------------------------------------------------------------------------------
# The in-memory form
# --------------------------------------------------------------------------------------------

# seq, op, kind, flags, site, addr, size, a, b (as the binding gives them)
RawEvent = tuple[int, int, int, int, int, int, int, int, int]


@dataclass(frozen=True)
class HeapState:
    """The heap after `step` operations of a recording."""

    step: int
    events: list[Event]  # the events of that step (empty for step 0)
    blocks: list[Block]
    free_list: list[Block]
    stats: Stats
    brk: int


class Recording:
    """A loaded recording: configuration, sites and events, and replays of them."""

    def __init__(self, config: dict[str, Any], sites: dict[int, tuple[str, int, str]],
                 raw: list[RawEvent], data: dict[int, bytes] | None = None,
                 final: dict[str, Any] | None = None, path: str = "<recording>",
                 version: int = VERSION, requests: dict[int, int] | None = None) -> None:
        self.config, self.sites, self.raw = config, sites, raw
        self.data = data or {}  # event seq -> the bytes a write stored
        self.requests = requests or {}  # event seq -> the n of an sbrk(n) or mmap(n)
        self.final = final or {}
        self.path, self.version = path, version
        self._groups = _groups(raw)

    def __repr__(self) -> str:
        return (f"<heapviz.Recording {self.path} policy={self.config.get('policy')} "
                f"steps={self.steps} events={len(self.raw)}>")

    # --- reading --------------------------------------------------------------------------
    @property
    def steps(self) -> int:
        """The number of operations (what the viewer's timeline counts)."""
        return len(self._groups)

    def site(self, site_id: int) -> Site | None:
        t = self.sites.get(site_id)
        return Site(*t) if t else None

    def _event(self, t: RawEvent) -> Event:
        seq, op, kind, flags, site, addr, size, a, b = t
        return Event(seq, op, KINDS[kind], flags, self.site(site), addr, size, a, b)

    @property
    def events(self) -> list[Event]:
        """Every recorded event, as heapviz.Event records."""
        return [self._event(t) for t in self.raw]

    def step_events(self, step: int) -> list[Event]:
        """The events of operation `step` (1-based: step 1 is the first operation)."""
        self._check_step(step, low=1)
        lo, hi = self._groups[step - 1]
        return [self._event(t) for t in self.raw[lo:hi]]

    def _check_step(self, step: int, low: int = 0) -> None:
        if isinstance(step, bool) or not isinstance(step, int):
            raise TypeError(f"step must be an int, not {type(step).__name__}")
        if not low <= step <= self.steps:
            raise IndexError(f"step {step}: this recording has steps {low}..{self.steps}")

    # --- replaying ------------------------------------------------------------------------
    def replay(self, upto: int | None = None, *, overrides: dict[str, Any] | None = None,
               verify: bool = True) -> heapviz.Heap:
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

    def heap_at(self, step: int) -> heapviz.Heap:
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

    def _state_of(self, h: heapviz.Heap, step: int) -> HeapState:
        events = self.step_events(step) if step else []
        return HeapState(step, events, h.blocks(), h.free_list(), h.stats(), int(h.brk))

    # --- pictures -------------------------------------------------------------------------
    def render(self, path: str | None = None, step: int | None = None, width: int = 1200,
               **opts: Any) -> bytes:
        """A PNG of the heap after `step` operations (the end by default)."""
        from heapviz import render

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
        from heapviz import render

        h = self.replay()
        try:
            return render.render_timeline(h, path, **opts)
        finally:
            _quiet_close(h)

    # --- writing --------------------------------------------------------------------------
    @classmethod
    def from_heap(cls, h: heapviz.Heap) -> Recording:
        """The recording of h's history so far."""
        if not isinstance(h, heapviz.heap.Heap):
            raise TypeError(f"save() takes a heapviz.Heap, not {type(h).__name__}")
        if h.closed:
            raise ValueError("save(): the heap is closed; save it before close() (or before "
                             "the end of its `with` block)")
        first, count = h._history()
        if first > 0:
            raise ValueError(f"save(): the history was truncated (the oldest {first} events "
                             "were dropped), so it cannot be replayed; make the heap with a "
                             "larger Heap(history_limit=…)")
        config = config_of(h)
        if count == 0 and h.stats().ops > 0:
            raise ValueError("save(): this heap records no events (Heap(record=False)), so "
                             "there is nothing to save")
        raw: list[RawEvent] = []
        for lo in range(0, count, 4096):
            raw.extend(tuple(t) for t in h._events(lo, min(count, lo + 4096)))  # type: ignore[misc]
        sites: dict[int, tuple[str, int, str]] = {}
        for t in raw:
            for sid in _site_ids(t):
                if sid and sid not in sites:
                    info = h._site_info(sid)
                    if info:
                        sites[sid] = (str(info[0]), int(info[1]), str(info[2]))
        known = h.__dict__.get("_write_data", {})
        data = {t[0]: known[t[0]] for t in raw
                if t[2] == _core.EV_WRITE and t[0] in known and len(known[t[0]]) == t[6]}
        # sbrk(n)'s grow event and mmap(n)'s event give the size made (rounded up), not n:
        # n is the request of the sbrk block or mapping, while it lives.
        asked = {(b.state, b.payload): b.requested for b in h.blocks()
                 if b.state in ("sbrk", "mapping")}
        state = {KIND_ID["grow"]: "sbrk", KIND_ID["mmap"]: "mapping"}
        requests = {t[0]: asked[(state[t[2]], t[5])] for t in raw
                    if t[2] in state and not t[3] & EVF_SUB and (state[t[2]], t[5]) in asked}
        return cls(config, sites, raw, data, _final(h), "<heap>", requests=requests)

    def dumps(self, compress: bool = False) -> bytes:
        """The file's bytes (see docs/recording.md); gzip-compressed when asked."""
        lines = [json.dumps({"format": MAGIC, "version": VERSION,
                             "generator": f"heapviz {heapviz.__version__}",
                             "config": self.config, "sites": len(self.sites),
                             "events": len(self.raw), "steps": self.steps},
                            separators=(",", ":"))]
        for sid in sorted(self.sites):
            file, line, func = self.sites[sid]
            lines.append(json.dumps(["site", sid, file, line, func], ensure_ascii=False))
        for t in self.raw:
            rec: list[Any] = ["event", *t[:2], KINDS[t[2]], *t[3:]]
            if t[0] in self.data:
                rec.append({"data": self.data[t[0]].hex()})
            elif t[0] in self.requests:
                rec.append({"request": self.requests[t[0]]})
            lines.append(json.dumps(rec, separators=(",", ":")))
        lines.append(json.dumps({"end": {"events": len(self.raw), "final": self.final}},
                                separators=(",", ":")))
        data = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
        return gzip.compress(data, mtime=0) if compress else data

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the recording (gzip-compressed when the name ends in ".gz")."""
        name = os.fspath(path)
        data = self.dumps(compress=name.endswith(".gz"))
        with open(name, "wb") as f:
            f.write(data)


def _site_ids(t: RawEvent, names: bool = True) -> tuple[int, ...]:
    """Site ids an event refers to: its own, an error's report, a note's text, and (with
    `names`) a frame's name (files before frame names were saved lack those)."""
    kind = t[2]
    if kind == _core.EV_ERROR:
        return (t[4], t[8])
    if kind == _core.EV_NOTE:
        return (t[4], t[7])
    if kind == KIND_ID["frame_push"] and names:
        return (t[4], t[8])
    return (t[4],)


def _groups(raw: list[RawEvent]) -> list[tuple[int, int]]:
    """[lo, hi) of each operation: consecutive events sharing an op number."""
    out: list[tuple[int, int]] = []
    lo = 0
    for i in range(1, len(raw) + 1):
        if i == len(raw) or raw[i][1] != raw[lo][1]:
            out.append((lo, i))
            lo = i
    return out


def _blocks_digest(h: heapviz.Heap) -> str:
    text = ";".join(f"{b.address:x}:{b.size}:{b.state}:{b.requested}" for b in h.blocks())
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _final(h: heapviz.Heap) -> dict[str, Any]:
    s = h.stats()
    out: dict[str, Any] = {k: getattr(s, k) for k in FINAL_STATS}
    out["brk"] = int(h.brk)
    out["blocks"] = _blocks_digest(h)
    return out


def _core_config(h: Any) -> dict[str, Any]:
    """The core's own copy of h's configuration (hv_heap_config), for a heap that does
    not keep its options (a bare _core.Heap)."""
    c = h._config()
    out = {k: c[k] for k in options.SAVED if k in c and k not in options.CHOICES}
    out.update({k: options.CHOICES[k][c[k]] for k in ("policy", "order", "coalesce")},
               align=int(c["align"]))
    return out


def config_of(h: Any) -> dict[str, Any]:
    """The configuration h was made with, as recordings keep it (options.SAVED): the
    options a heapviz.Heap keeps (h.config), else the core's own copy; checks as h is now."""
    given = getattr(h, "config", None)
    cfg = {**DEFAULTS, **(options.saved(given) if isinstance(given, dict) else
                          _core_config(h))}
    cfg["checks"] = getattr(h, "checks", cfg["checks"])
    return cfg


def save(h: heapviz.Heap, path: str | os.PathLike[str]) -> None:
    """Write h's recorded history to `path` (Heap.save delegates here)."""
    Recording.from_heap(h).save(path)


def _quiet_close(h: heapviz.Heap) -> None:
    """Close a replay heap without a leak summary (the recording's leaks are not news)."""
    if h.closed:
        return
    with contextlib.redirect_stderr(io.StringIO()):
        h.checks = "off"
        h.close()


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------

MAX_LINE = 64 << 20  # a longer line is certainly not ours


def _int(value: Any, lo: int = 0, hi: int = U64) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def _open_lines(path: str) -> Iterator[tuple[int, bytes]]:
    try:
        with open(path, "rb") as f:
            head = f.read(2)
    except OSError as e:
        raise RecordingError(path, f"cannot read it: {e.strerror or e}") from None
    try:
        opener: Any = gzip.open if head == b"\x1f\x8b" else open
        with opener(path, "rb") as f:
            for lineno, line in enumerate(f, 1):
                if len(line) > MAX_LINE:
                    raise RecordingError(path, "this line is far too long", lineno)
                yield lineno, line
    except RecordingError:
        raise
    except (OSError, EOFError, zlib.error) as e:
        raise RecordingError(path, f"damaged compressed data ({e})") from None


def load(path: str | os.PathLike[str]) -> Recording:
    """Read a recording written by Heap.save(); RecordingError names what is wrong."""
    name = os.fspath(path)
    lines = _open_lines(name)
    return _parse(name, lines)


def loads(data: bytes | str, path: str = "<recording>") -> Recording:
    """Parse a recording from bytes (or text) already in memory."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if not isinstance(data, bytes | bytearray):
        raise TypeError(f"loads() takes bytes or str, not {type(data).__name__}")
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise RecordingError(path, f"damaged compressed data ({e})") from None
    return _parse(path, enumerate(bytes(data).splitlines(keepends=True), 1))


def _json(path: str, lineno: int, raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise RecordingError(path, "not UTF-8 text", lineno) from None
    except (ValueError, RecursionError):
        raise RecordingError(path, "not a JSON line (the file is damaged)", lineno) from None


def _parse(path: str, lines: Iterator[tuple[int, bytes]]) -> Recording:
    header: dict[str, Any] | None = None
    sites: dict[int, tuple[str, int, str]] = {}
    raw: list[RawEvent] = []
    data: dict[int, bytes] = {}
    requests: dict[int, int] = {}
    end: dict[str, Any] | None = None
    last_op = 0
    for lineno, line in lines:
        if not line.strip():
            continue

        def err(reason: str, lineno: int = lineno) -> RecordingError:
            return RecordingError(path, reason, lineno)

        if header is None:
            if not line.lstrip().startswith(b"{"):
                raise RecordingError(path, "not a heapviz recording (it does not start with "
                                     f"the {MAGIC!r} header line)")
            obj = _json(path, lineno, line)
            if not isinstance(obj, dict) or obj.get("format") != MAGIC:
                raise RecordingError(path, "not a heapviz recording (the first line is not "
                                     f"the {MAGIC!r} header)")
            version = obj.get("version")
            if not isinstance(version, int) or not _int(version, 1, 1 << 31):
                raise err("the header's version is not a positive whole number")
            if version > VERSION:
                raise err(f"made by a newer heapviz (format version {version}; this heapviz "
                          f"reads version {VERSION}): upgrade heapviz")
            for key in ("sites", "events", "steps"):
                if not _int(obj.get(key), 0, 1 << 40):
                    raise err(f"the header's {key} count is missing or not a number")
            obj["config"] = options.check_saved(obj.get("config"), err)
            header = obj
            continue
        if end is not None:
            raise err("more lines after the end line")
        obj = _json(path, lineno, line)
        if isinstance(obj, dict):
            e = obj.get("end")
            if not isinstance(e, dict):
                raise err("an object line that is not the end line")
            end = e
            continue
        if not isinstance(obj, list) or not obj or not isinstance(obj[0], str):
            raise err("a line that is neither a site, an event nor the end")
        if obj[0] == "site":
            if len(obj) != 5 or not _int(obj[1], 1, (1 << 32) - 1) or not isinstance(
                    obj[2], str) or not _int(obj[3], 0, (1 << 32) - 1) or not isinstance(
                    obj[4], str):
                raise err("a site line must be [\"site\", id, file, line, function]")
            if obj[1] in sites:
                raise err(f"site {obj[1]} is defined twice")
            if raw:
                raise err("a site line after the events")
            sites[obj[1]] = (obj[2], obj[3], obj[4])
        elif obj[0] == "event":
            if len(obj) not in (10, 11):
                raise err("an event line must be [\"event\", seq, op, kind, flags, site, "
                          "address, size, a, b]")
            _, seq, op, kind, flags, site, addr, size, a, b = obj[:10]
            if not all(_int(v) for v in (seq, op, addr, size, a, b)):
                raise err("an event's numbers must be whole numbers from 0 to 2**64-1")
            if not _int(flags, 0, 0xFFFF) or not _int(site, 0, (1 << 32) - 1):
                raise err("an event's flags or site is out of range")
            if kind not in KIND_ID:
                raise err(f"unknown event kind {str(kind)[:30]!r}")
            if seq != len(raw):
                raise err(f"event {seq} out of order: expected event {len(raw)} (the file "
                          "is damaged or events are missing)")
            if op < last_op or op == 0:
                raise err(f"event {seq}: operation number {op} goes backwards")
            last_op = op
            t: RawEvent = (seq, op, KIND_ID[kind], flags, site, addr, size, a, b)
            for sid in _site_ids(t, names=False):
                if sid and sid not in sites:
                    raise err(f"event {seq} refers to site {sid}, which is not defined")
            if len(obj) == 11:
                extra = obj[10]
                if not isinstance(extra, dict) or len(extra) != 1:
                    raise err(f"event {seq}: its last field must be {{\"data\": …}} or "
                              "{\"request\": …}")
                if kind == "write" and isinstance(extra.get("data"), str):
                    try:
                        blob = bytes.fromhex(extra["data"])
                    except ValueError:
                        raise err(f"event {seq}: its data is not hex") from None
                    if len(blob) != size:
                        raise err(f"event {seq}: {len(blob)} bytes of data for a write of "
                                  f"{size}")
                    data[seq] = blob
                elif kind in ("grow", "mmap") and _int(extra.get("request"), 1, size):
                    requests[seq] = extra["request"]
                else:
                    raise err(f"event {seq}: a {kind} event carries no {next(iter(extra))!r}")
            raw.append(t)
        else:
            raise err(f"unknown line type {obj[0][:30]!r}")
    if header is None:
        raise RecordingError(path, "empty file: not a heapviz recording")
    if end is None:
        raise RecordingError(path, f"truncated: no end line (it stops after {len(raw)} of "
                             f"{header['events']} events)")
    if end.get("events") != len(raw) or header["events"] != len(raw):
        raise RecordingError(path, f"the file holds {len(raw)} events, but its header and "
                             f"end line say {header['events']} and {end.get('events')}")
    if header["sites"] != len(sites):
        raise RecordingError(path, f"the file holds {len(sites)} sites, but its header says "
                             f"{header['sites']}")
    final = end.get("final", {})
    if not isinstance(final, dict):
        raise RecordingError(path, "the end line's final summary is not an object")
    rec = Recording(header["config"], sites, raw, data, final, path, header["version"],
                    requests)
    if header["steps"] != rec.steps:
        raise RecordingError(path, f"the file holds {rec.steps} steps, but its header says "
                             f"{header['steps']}")
    return rec


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
            self.h = heapviz.Heap(**opts)
        except (ValueError, TypeError, OverflowError, OSError) as e:
            raise RecordingError(rec.path, f"cannot make its heap: {e}") from None
        # Made in the recorded mode (the binding keeps shadow memory only when checks are
        # on), then quiet while replaying: what the recording did is re-done, not judged.
        self.h.checks = "off"
        self.ptrs: dict[int, heapviz.Pointer] = {}  # recorded payload -> pointer (latest)
        self.old: dict[int, heapviz.Pointer] = {}  # ... and the one before it (double frees)
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
            from heapviz.scenario import site_code

            file, line, func = self.rec.sites[sid]
            code = self.codes[sid] = site_code(file, line, func)
        box: list[Any] = []
        exec(code, {"__step__": lambda: box.append(fn()), "__builtins__": {}})
        return box[0] if box else None

    # --- pointers -------------------------------------------------------------------------
    def _ptr(self, addr: int, stale: bool = False) -> heapviz.Pointer:
        """A pointer for a recorded address, with the provenance its block gives it.

        `stale`: the pointer a double free used — the one of the block's previous life when
        the address is live again."""
        if not addr:
            return heapviz.NULL
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
        return heapviz.Pointer(addr)

    def _keep(self, recorded: int, p: Any, size: int) -> None:
        if isinstance(p, heapviz.Pointer) and recorded:
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
            n = self.rec.requests.get(prim[0]) or a or max(
                1, size - lay["header_size"] - lay["footer_size"])
            self._at(site, lambda: h.sbrk(n))
        elif k == "shrink":
            self._at(site, lambda: h.sbrk(-size))
        elif k == "mmap":
            n = self.rec.requests.get(prim[0]) or a or size
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
                with contextlib.suppress(heapviz.HeapError, ValueError, TypeError):
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
        event): re-run it, in the recorded checks mode, quietly."""
        h = self.h
        p = self._ptr(t[5], stale=t[2] == _core.EV_FREE or t[7] == ERR_DOUBLE_FREE)
        h.checks = self.checks
        try:
            with contextlib.redirect_stderr(io.StringIO()), contextlib.suppress(
                    heapviz.HeapError):
                self._at(t[4], lambda: h.free(p))
        finally:
            h.checks = "off"

    # --- the end --------------------------------------------------------------------------
    def finish(self, full: bool) -> heapviz.Heap:
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
        h.__dict__["_replay_pointers"] = (self.ptrs, self.old)
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
