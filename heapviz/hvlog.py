"""The .hvlog file: a heap's history written to a file and read back (docs/recording.md).

UTF-8 JSON lines, gzip-compressed when the name ends in ".gz": a header object (magic
"heapviz-recording", format version, the heap configuration — the saved part of
heapviz.options —, counts), the call sites (file, line, function; error reports, notes and
frame names are sites too), one line per event, and an end object with a summary of the
final heap.  A file that is damaged, truncated, foreign or of a newer version raises
RecordingError (a ValueError) naming the line, never anything else.

This module is the format and nothing else: `Heap.save()` writes with it, and
heapviz.recording (a Recording, its replays) reads with it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import zlib
from collections.abc import Iterator
from typing import Any, TypeVar

from heapviz import _core, options
from heapviz.records import Event, Site
from heapviz.version import __version__

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


# seq, op, kind, flags, site, addr, size, a, b (as the binding gives them)
RawEvent = tuple[int, int, int, int, int, int, int, int, int]


L = TypeVar("L", bound="Log")


class Log:
    """A history as the file holds it: configuration, sites and events."""

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
        return (f"<heapviz.{type(self).__name__} {self.path} policy={self.config.get('policy')} "
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
    @classmethod
    def from_heap(cls: type[L], h: Any) -> L:
        """The recording of h's history so far."""
        if not callable(getattr(h, "_history", None)):
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
        known = h.write_data
        data = {t[0]: known[t[0]] for t in raw
                if t[2] == _core.EV_WRITE and t[0] in known and len(known[t[0]]) == t[6]}
        # sbrk(n)'s grow event and mmap(n)'s event carry n (their `a`): files written before
        # they did carry it as a "request" (read, never written again).
        return cls(config, sites, raw, data, _final(h), "<heap>")

    def dumps(self, compress: bool = False) -> bytes:
        """The file's bytes (see docs/recording.md); gzip-compressed when asked."""
        lines = [json.dumps({"format": MAGIC, "version": VERSION,
                             "generator": f"heapviz {__version__}",
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


def _blocks_digest(h: Any) -> str:
    text = ";".join(f"{b.address:x}:{b.size}:{b.state}:{b.requested}" for b in h.blocks())
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _final(h: Any) -> dict[str, Any]:
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
    options a Any keeps (h.config), else the core's own copy; checks as h is now."""
    given = getattr(h, "config", None)
    cfg = {**DEFAULTS, **(options.saved(given) if isinstance(given, dict) else
                          _core_config(h))}
    cfg["checks"] = getattr(h, "checks", cfg["checks"])
    return cfg


def save(h: Any, path: str | os.PathLike[str]) -> None:
    """Write h's recorded history to `path` (Heap.save delegates here)."""
    Log.from_heap(h).save(path)


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


def load(path: str | os.PathLike[str], cls: type[L] | None = None) -> L:
    """Read a recording written by Heap.save(); RecordingError names what is wrong."""
    name = os.fspath(path)
    lines = _open_lines(name)
    return _parse(name, lines, cls or Log)  # type: ignore[arg-type]


def loads(data: bytes | str, path: str = "<recording>", cls: type[L] | None = None) -> L:
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
    return _parse(path, enumerate(bytes(data).splitlines(keepends=True), 1),
                  cls or Log)  # type: ignore[arg-type]


def _json(path: str, lineno: int, raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise RecordingError(path, "not UTF-8 text", lineno) from None
    except (ValueError, RecursionError):
        raise RecordingError(path, "not a JSON line (the file is damaged)", lineno) from None


def _parse(path: str, lines: Iterator[tuple[int, bytes]], cls: type[L]) -> L:
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
    rec = cls(header["config"], sites, raw, data, final, path, header["version"], requests)
    if header["steps"] != rec.steps:
        raise RecordingError(path, f"the file holds {rec.steps} steps, but its header says "
                             f"{header['steps']}")
    return rec
