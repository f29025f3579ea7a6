"""Replay CS:APP malloc-lab traces (.rep): check correctness, report utilization and throughput.

    python -m heapviz trace amptjp-bal.rep binary-bal.rep --policy segregated
    python -m heapviz trace ../shared/traces/*-bal.rep --compare

Each trace runs twice through the Python API, on a fresh heap each time
(`heapviz.Heap(mmap_threshold=0, checks="off", record=False, …)`: every block in the heap, as in
the lab, and no per-access checks or event recording, for speed).  The first run checks what the
lab's driver checks — every payload aligned, inside the heap, not overlapping a live payload, and
its content kept (by realloc, and until it is freed) — and measures utilization, the lab's
definition: the peak over time of the live requested bytes, divided by the heap size at the end.
The second run is timed: throughput is operations per second (the whole Python call included).

`--compare` runs every policy and glibc's malloc (through ctypes, in a child process so that its
heap holds nothing but the trace) and prints one table.

The trace format (see ../shared/traces/README.md): four header numbers (suggested heap size,
number of block ids, number of operations, weight), then one operation a line: `a ID BYTES`
(malloc), `r ID BYTES` (realloc), `f ID` (free).  `parse_trace(text, name)` is the parser, for
other modules too; a malformed trace raises `TraceError`, which names the line.
"""

from __future__ import annotations

import argparse
import bisect
import ctypes
import ctypes.util
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from heapviz import options
from heapviz._core import NULL
from heapviz.errors import HeapError
from heapviz.heap import Heap

POLICIES = options.POLICIES
GLIBC = "glibc"
ALLOCATORS = (*POLICIES, GLIBC)
HEADER_FIELDS = ("suggested heap size", "number of block ids", "number of operations", "weight")
MAX_BYTES = 1 << 40  # larger sizes are certainly a damaged trace
MAX_IDS = 1 << 24
HEAP_MAX = 1 << 30  # the core's largest max_size
MiB = 1 << 20
_NUMBER = re.compile(r"[0-9]+\Z")


# --------------------------------------------------------------------------------------------
# The trace format
# --------------------------------------------------------------------------------------------


class TraceError(ValueError):
    """A malformed trace: `name`, `line` (1-based; 0 when it concerns the whole file), `reason`."""

    def __init__(self, name: str, line: int, reason: str) -> None:
        self.name, self.line, self.reason = name, line, reason
        where = f"{name}, line {line}" if line else name
        super().__init__(f"{where}: {reason}")


class TraceOp(NamedTuple):
    kind: str  # "a" (malloc), "r" (realloc) or "f" (free)
    id: int  # the block id
    size: int  # bytes requested (0 for "f")
    line: int  # where it is in the file


@dataclass(frozen=True)
class Trace:
    """A parsed trace.  `peak_live` is the lab's numerator: the peak over time of the sum of
    the live blocks' requested sizes."""

    name: str
    suggested_heap: int
    num_ids: int
    weight: int
    ops: tuple[TraceOp, ...]
    peak_live: int
    total_requested: int = field(default=0, compare=False)  # bytes of every malloc/realloc

    @property
    def num_ops(self) -> int:
        return len(self.ops)

    def text(self) -> str:
        """The trace written back in the .rep format."""
        head = [self.suggested_heap, self.num_ids, len(self.ops), self.weight]
        body = [f"f {o.id}" if o.kind == "f" else f"{o.kind} {o.id} {o.size}" for o in self.ops]
        return "\n".join([*map(str, head), *body]) + "\n"


def _number(name: str, line: int, token: str, what: str, limit: int) -> int:
    if not _NUMBER.match(token):
        shown = token if len(token) <= 20 else token[:20] + "…"
        raise TraceError(name, line, f"{what} must be a whole number >= 0, not {shown!r}")
    value = int(token)
    if value > limit:
        raise TraceError(name, line, f"{what} {value} is too large (at most {limit})")
    return value


def parse_trace(text: str, name: str = "<trace>") -> Trace:
    """Parse a malloc-lab trace; raise TraceError naming the line of the first problem.

    Beyond the syntax, the operations must make sense as the lab's driver replays them: ids
    below the header's count, no block allocated twice before it is freed, no free or realloc
    of a block that is not allocated, and exactly as many operations as the header says.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_trace() takes the trace's text (str), not {type(text).__name__}")
    header: list[int] = []
    header_lines: list[int] = []
    ops: list[TraceOp] = []
    live: dict[int, tuple[int, int]] = {}  # id -> (size, line of its malloc/realloc)
    freed_at: dict[int, int] = {}
    cur = peak = total = 0
    num_ids = num_ops = 0
    last_line = 0
    for lineno, raw in enumerate(text.split("\n"), 1):
        tokens = raw.split()
        if not tokens:
            continue
        last_line = lineno
        if len(header) < 4:
            while tokens and len(header) < 4:
                what = f"the header's {HEADER_FIELDS[len(header)]}"
                limit = MAX_IDS if len(header) in (1, 2) else MAX_BYTES
                header.append(_number(name, lineno, tokens.pop(0), what, limit))
                header_lines.append(lineno)
            if tokens:
                raise TraceError(name, lineno, f"unexpected {tokens[0]!r} after the four "
                                 "header numbers (" + ", ".join(HEADER_FIELDS) + ")")
            if len(header) == 4:
                num_ids, num_ops = header[1], header[2]
            continue
        kind = tokens[0]
        if kind not in ("a", "r", "f"):
            shown = kind if len(kind) <= 20 else kind[:20] + "…"
            raise TraceError(name, lineno, f"unknown operation {shown!r}: expected 'a ID BYTES' "
                             "(malloc), 'r ID BYTES' (realloc) or 'f ID' (free)")
        want = 2 if kind == "f" else 3
        if len(tokens) != want:
            form = "f ID" if kind == "f" else f"{kind} ID BYTES"
            raise TraceError(name, lineno, f"'{form}' takes {want - 1} number"
                             f"{'s' if want > 2 else ''}, found {len(tokens) - 1}")
        if len(ops) >= num_ops:
            raise TraceError(name, lineno, f"more operations than the {num_ops} the header "
                             f"announces (line {header_lines[2]})")
        bid = _number(name, lineno, tokens[1], "the block id", MAX_IDS)
        if bid >= num_ids:
            raise TraceError(name, lineno, f"block id {bid} is out of range: the header "
                             f"(line {header_lines[1]}) announces {num_ids} ids, 0 to "
                             f"{num_ids - 1}" if num_ids else "no ids")
        size = 0 if kind == "f" else _number(name, lineno, tokens[2], "the size", MAX_BYTES)
        if kind == "a":
            if bid in live:
                raise TraceError(name, lineno, f"block {bid} is allocated again, but it is "
                                 f"still live (allocated at line {live[bid][1]})")
        elif bid not in live:
            verb = "frees" if kind == "f" else "reallocates"
            past = f" (freed at line {freed_at[bid]})" if bid in freed_at else ""
            raise TraceError(name, lineno, f"{verb} block {bid}, which is not allocated{past}")
        if kind != "a":
            cur -= live.pop(bid)[0]
        if kind == "f" or (kind == "r" and size == 0):  # realloc(p, 0) frees, as in C
            freed_at[bid] = lineno
        else:
            live[bid] = (size, lineno)
            cur += size
            total += size
            peak = max(peak, cur)
        ops.append(TraceOp(kind, bid, size, lineno))
    if len(header) < 4:
        where = last_line or 1
        missing = ", ".join(HEADER_FIELDS[len(header):])
        raise TraceError(name, where, "empty trace" if not header else
                         f"the trace ends inside its header: missing {missing}")
    if len(ops) < num_ops:
        raise TraceError(name, last_line, f"the trace ends after {len(ops)} operations, but "
                         f"its header (line {header_lines[2]}) announces {num_ops}")
    return Trace(name, header[0], num_ids, header[3], tuple(ops), peak, total)


def read_trace(path: str | os.PathLike[str]) -> Trace:
    """Read and parse a .rep file (TraceError when it is not a readable text trace)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise TraceError(str(p), 0, f"cannot read it: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise TraceError(str(p), line, f"not a text trace (byte {e.start} is not UTF-8)") from None
    return parse_trace(text, p.name)


# --------------------------------------------------------------------------------------------
# Replaying
# --------------------------------------------------------------------------------------------


class ReplayError(Exception):
    """The allocator broke a rule the lab's driver checks (or ran out of memory)."""

    def __init__(self, trace: str, allocator: str, line: int, reason: str) -> None:
        self.trace, self.allocator, self.line, self.reason = trace, allocator, line, reason
        where = f"{trace}, line {line}" if line else trace
        super().__init__(f"{where}: {allocator}: {reason}")


@dataclass
class Result:
    """One trace under one allocator."""

    trace: str
    allocator: str
    ops: int
    peak_live: int
    heap_size: int | None  # bytes at the end (glibc: peak footprint); None if unknown
    seconds: float  # the timed run (median of the repeats)

    @property
    def utilization(self) -> float | None:
        return self.peak_live / self.heap_size if self.heap_size else None

    @property
    def ops_per_sec(self) -> float:
        return self.ops / self.seconds if self.seconds > 0 else float("inf")

    def as_dict(self) -> dict[str, Any]:
        return {"trace": self.trace, "allocator": self.allocator, "ops": self.ops,
                "peak_live": self.peak_live, "heap_size": self.heap_size,
                "utilization": self.utilization, "seconds": self.seconds,
                "ops_per_sec": self.ops_per_sec}


def _fill(seed: int) -> int:
    """The byte a block's payload is filled with (never 0, so a zeroed header shows)."""
    return seed % 255 + 1


class _Checker:
    """The lab driver's checks: aligned, inside [lo, hi), no overlap with a live payload."""

    def __init__(self, trace: Trace, allocator: str, align: int) -> None:
        self.trace, self.allocator, self.align = trace, allocator, align
        self.starts: list[int] = []  # sorted payload starts of live blocks
        self.ends: dict[int, tuple[int, int]] = {}  # start -> (end, id)

    def fail(self, op: TraceOp, reason: str) -> ReplayError:
        text = f"f {op.id}" if op.kind == "f" else f"{op.kind} {op.id} {op.size}"
        return ReplayError(self.trace.name, self.allocator, op.line, f"'{text}': {reason}")

    def add(self, op: TraceOp, addr: int, lo: int | None, hi: int | None) -> None:
        size = op.size
        call = "malloc" if op.kind == "a" else "realloc"
        if not addr:
            raise self.fail(op, f"{call}({size}) returned NULL (out of memory)")
        if addr % self.align:
            raise self.fail(op, f"{call}({size}) returned {addr:#x}, not aligned to "
                            f"{self.align}")
        if lo is not None and hi is not None and not (lo <= addr and addr + size <= hi):
            raise self.fail(op, f"payload [{addr:#x}, {addr + size:#x}) is not inside the "
                            f"heap [{lo:#x}, {hi:#x})")
        k = bisect.bisect_left(self.starts, addr)
        if k > 0:
            prev = self.starts[k - 1]
            end, other = self.ends[prev]
            if end > addr:
                raise self.fail(op, f"payload [{addr:#x}, {addr + size:#x}) overlaps live "
                                f"block {other} [{prev:#x}, {end:#x})")
        if k < len(self.starts) and self.starts[k] < addr + max(size, 1):
            nxt = self.starts[k]
            end, other = self.ends[nxt]
            raise self.fail(op, f"payload [{addr:#x}, {addr + size:#x}) overlaps live block "
                            f"{other} [{nxt:#x}, {end:#x})")
        self.starts.insert(k, addr)
        self.ends[addr] = (addr + size, op.id)

    def remove(self, addr: int) -> None:
        if addr in self.ends:
            del self.ends[addr]
            del self.starts[bisect.bisect_left(self.starts, addr)]


def max_size_for(trace: Trace) -> int:
    """A reservation large enough for any policy: every request could grow the break by its
    size rounded up to a page, doubled for buddy's powers of two."""
    need = sum(2 * (o.size + 64) + 4096 for o in trace.ops if o.kind != "f")
    size = 64 * MiB
    while size < need and size < HEAP_MAX:
        size *= 2
    return size


@dataclass(frozen=True)
class HeapOptions:
    align: int = 8
    order: str = "address"
    coalesce: str = "immediate"
    footer: bool = True
    record: bool = False
    checks: str = "off"
    max_size: int | None = None


def _make_heap(trace: Trace, policy: str, opt: HeapOptions) -> Any:
    return Heap(size=0, max_size=opt.max_size or max_size_for(trace), policy=policy,
                        order=opt.order, coalesce=opt.coalesce, align=opt.align,
                        mmap_threshold=0, checks=opt.checks, footer=opt.footer,
                        record=opt.record)


def trace_heap(path: str | os.PathLike[str] | Trace, options: dict[str, Any],
               record: bool = True) -> Heap:
    """A heap after replaying a malloc-lab trace (a path or a parsed Trace), as the lab
    runs it: every block in the heap (no mmap), alignment 8 unless `options` say.  The
    trace's live blocks stay allocated (their Pointers live with the heap)."""
    tr = read_trace(path) if isinstance(path, str | os.PathLike) else path
    opts: dict[str, Any] = {"size": 0, "max_size": max_size_for(tr), "align": 8,
                            "mmap_threshold": 0, "checks": "off", "record": record}
    opts.update(options)
    try:
        h = Heap(**opts)
    except (ValueError, TypeError, OverflowError, OSError, MemoryError) as e:
        raise TraceError(tr.name, 0, f"cannot make the heap: {e}") from None
    ids: dict[int, Any] = {}
    for op in tr.ops:
        if op.kind == "a":
            ids[op.id] = h.malloc(op.size)
        elif op.kind == "r":
            ids[op.id] = h.realloc(ids.get(op.id, NULL), op.size)
        else:
            h.free(ids.pop(op.id, NULL))
    h.hold(ids)
    return h


def _close(h: Any, ptrs: Sequence[Any]) -> None:
    for p in ptrs:  # an unbalanced trace: free what is left (no leak summary)
        if p:
            h.free(p)
    h.close()


def _verify_heapviz(trace: Trace, policy: str, opt: HeapOptions) -> int:
    """The checked run; returns the heap size at the end."""
    h = _make_heap(trace, policy, opt)
    null = NULL
    ptrs: list[Any] = [null] * trace.num_ids
    sizes = [0] * trace.num_ids
    chk = _Checker(trace, policy, opt.align)
    lo = int(h.layout["heap_base"])
    op = TraceOp("a", 0, 0, 0)
    try:
        for op in trace.ops:
            i = op.id
            if op.kind == "f":
                p = ptrs[i]
                if sizes[i] and p.read(sizes[i]) != bytes([_fill(i)]) * sizes[i]:
                    raise chk.fail(op, f"the payload of block {i} changed while it was live")
                chk.remove(int(p))
                h.free(p)
                ptrs[i], sizes[i] = null, 0
                continue
            old = ptrs[i]
            if op.kind == "a":
                p = h.malloc(op.size)
            else:
                chk.remove(int(old))
                p = h.realloc(old, op.size)
                if op.size == 0:
                    ptrs[i], sizes[i] = null, 0
                    continue
            if op.size == 0 and not p:
                ptrs[i] = p
                continue
            chk.add(op, int(p), lo, int(h.brk))
            keep = min(sizes[i], op.size) if op.kind == "r" else 0
            if keep and p.read(keep) != bytes([_fill(i)]) * keep:
                raise chk.fail(op, f"realloc did not keep the first {keep} bytes of block {i}")
            if op.size > keep:
                (p + keep).write(bytes([_fill(i)]) * (op.size - keep))
            ptrs[i], sizes[i] = p, op.size
        problems = h.check()
        if problems:
            raise ReplayError(trace.name, policy, trace.ops[-1].line if trace.ops else 0,
                              f"h.check() found {len(problems)} problem(s): {problems[0]}")
        return int(h.stats().heap_size)
    except HeapError as e:  # the allocator found its own metadata damaged
        raise chk.fail(op, f"{type(e).__name__}: {str(e).splitlines()[0]}") from None
    finally:
        if not h.closed:
            _close(h, ptrs)


def _timed_heapviz(trace: Trace, policy: str, opt: HeapOptions) -> float:
    """One timed run on a fresh heap (its creation not timed); seconds."""
    h = _make_heap(trace, policy, opt)
    ptrs: list[Any] = [NULL] * trace.num_ids
    malloc, realloc, free = h.malloc, h.realloc, h.free
    ops = [(0 if o.kind == "a" else 1 if o.kind == "r" else 2, o.id, o.size) for o in trace.ops]
    try:
        t0 = time.perf_counter()
        for kind, i, size in ops:
            if kind == 0:
                ptrs[i] = malloc(size)
            elif kind == 1:
                ptrs[i] = realloc(ptrs[i], size)
            else:
                free(ptrs[i])
                ptrs[i] = None
        return time.perf_counter() - t0
    except HeapError as e:  # the checked run passed: name no line
        raise ReplayError(trace.name, policy, 0, f"in a timed run: {type(e).__name__}: "
                          f"{str(e).splitlines()[0]}") from None
    finally:
        _close(h, [p for p in ptrs if p is not None])


def replay(trace: Trace, policy: str, opt: HeapOptions | None = None, *, verify: bool = True,
           repeat: int = 1) -> Result:
    """Replay a trace under a heapviz policy: checked run (utilization), then timed runs."""
    opt = opt or HeapOptions()
    heap_size = _verify_heapviz(trace, policy, opt) if verify else None
    times = [_timed_heapviz(trace, policy, opt) for _ in range(max(1, repeat))]
    return Result(trace.name, policy, trace.num_ops, trace.peak_live, heap_size,
                  statistics.median(times))


# --- glibc through ctypes ---------------------------------------------------------------------


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                                "usmblks", "fsmblks", "uordblks", "fordblks",
                                                "keepcost")]


class _Libc:
    def __init__(self) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        self.malloc = libc.malloc
        self.malloc.restype, self.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
        self.realloc = libc.realloc
        self.realloc.restype = ctypes.c_void_p
        self.realloc.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        self.free = libc.free
        self.free.restype, self.free.argtypes = None, [ctypes.c_void_p]
        self.mallinfo2: Callable[[], _Mallinfo2] | None = getattr(libc, "mallinfo2", None)
        if self.mallinfo2 is not None:
            self.mallinfo2.restype, self.mallinfo2.argtypes = _Mallinfo2, []

    def footprint(self) -> int | None:
        """Bytes glibc holds from the system: brk/heap arenas plus mmapped chunks."""
        if self.mallinfo2 is None:
            return None
        m = self.mallinfo2()
        return int(m.arena + m.hblkhd)


def _glibc_run(trace: Trace, align: int, verify: bool, repeat: int) -> dict[str, Any]:
    """Run in a fresh thread of a fresh process: the thread's own arena holds only the trace."""
    c = _Libc()
    # The replay runs in a new thread, which gets an arena of its own; the main arena (the
    # interpreter's) stays as it is while the main thread waits, so the growth of the total
    # over this base is the trace's footprint (the new arena's initial heap included).
    base = c.footprint()
    ops = [(0 if o.kind == "a" else 1 if o.kind == "r" else 2, o.id, o.size) for o in trace.ops]
    out: dict[str, Any] = {}

    def checked() -> None:
        peak = 0
        ptrs = [0] * trace.num_ids
        sizes = [0] * trace.num_ids
        chk = _Checker(trace, GLIBC, align)
        for op in trace.ops:
            i = op.id
            if op.kind == "f":
                if sizes[i] and ctypes.string_at(ptrs[i], sizes[i]) != bytes([_fill(i)]) * sizes[i]:
                    raise chk.fail(op, f"the payload of block {i} changed while it was live")
                chk.remove(ptrs[i])
                c.free(ptrs[i])
                ptrs[i] = sizes[i] = 0
            else:
                if op.kind == "a":
                    p = c.malloc(op.size) or 0
                else:
                    chk.remove(ptrs[i])
                    p = c.realloc(ptrs[i], op.size) or 0
                if op.size == 0:
                    ptrs[i], sizes[i] = p, 0
                    if p:
                        chk.remove(p)
                    continue
                chk.add(op, p, None, None)
                keep = min(sizes[i], op.size) if op.kind == "r" else 0
                if keep and ctypes.string_at(p, keep) != bytes([_fill(i)]) * keep:
                    raise chk.fail(op, f"realloc did not keep the first {keep} bytes of "
                                   f"block {i}")
                ctypes.memset(p + keep, _fill(i), op.size - keep)
                ptrs[i], sizes[i] = p, op.size
            if base is not None:
                peak = max(peak, (c.footprint() or 0) - base)
        for p in ptrs:
            if p:
                c.free(p)
        out["heap_size"] = peak if base is not None else None

    def timed() -> float:
        ptrs = [0] * trace.num_ids
        malloc, realloc, free = c.malloc, c.realloc, c.free
        t0 = time.perf_counter()
        for kind, i, size in ops:
            if kind == 0:
                ptrs[i] = malloc(size)
            elif kind == 1:
                ptrs[i] = realloc(ptrs[i], size)
            else:
                free(ptrs[i])
                ptrs[i] = 0
        t = time.perf_counter() - t0
        for p in ptrs:
            if p:
                free(p)
        return t

    def work() -> None:
        try:
            if verify:
                checked()
            out["times"] = [timed() for _ in range(max(1, repeat))]
        except ReplayError as e:
            out["error"] = [e.line, e.reason]

    t = threading.Thread(target=work, name="glibc-replay")
    t.start()
    t.join()
    return out


def _glibc_child() -> None:
    """Entry point of the child process (`python -c …`): a job on stdin, JSON on stdout."""
    job = json.loads(sys.stdin.read())
    trace = parse_trace(job["text"], job["name"])
    json.dump(_glibc_run(trace, job["align"], job["verify"], job["repeat"]), sys.stdout)


def replay_glibc(trace: Trace, *, align: int = 8, verify: bool = True, repeat: int = 1,
                 env: dict[str, str] | None = None) -> Result:
    """Replay a trace through glibc's malloc (ctypes) in a child process.  The heap size is
    the peak growth of mallinfo2()'s arena + hblkhd (bytes taken from the system) during the
    checked run; None where mallinfo2 is missing."""
    job = json.dumps({"text": trace.text(), "name": trace.name, "align": align,
                      "verify": verify, "repeat": repeat})
    code = "import heapviz.trace as t; t._glibc_child()"
    proc = subprocess.run([sys.executable, "-c", code], input=job, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"the glibc replay of {trace.name} failed:\n{proc.stderr.strip()}")
    out = json.loads(proc.stdout)
    if "error" in out:
        raise ReplayError(trace.name, GLIBC, out["error"][0], out["error"][1])
    return Result(trace.name, GLIBC, trace.num_ops, trace.peak_live, out.get("heap_size"),
                  statistics.median(out["times"]))


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


class Progress:
    """One line on stderr per step of a long run (redrawn in place on a terminal)."""

    def __init__(self, total: int, enabled: bool, stream: TextIO | None = None) -> None:
        self.total, self.enabled, self.done = total, enabled, 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()

    def step(self, what: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        msg = f"trace: [{self.done}/{self.total}] {what}"
        if self.tty:
            self.stream.write("\r\x1b[K" + msg)
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(msg + "\n")
        self.stream.flush()

    def clear(self) -> None:
        if self.enabled and self.tty and self.done < self.total:
            self.stream.write("\n")


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _kops(r: Iterator[Result] | list[Result]) -> float:
    rs = list(r)
    secs = sum(x.seconds for x in rs)
    return sum(x.ops for x in rs) / secs / 1000 if secs > 0 else float("inf")


def _mean_util(rs: list[Result]) -> float | None:
    us = [r.utilization for r in rs]
    if any(u is None for u in us) or not us:
        return None
    return statistics.fmean(u for u in us if u is not None)


def format_single(results: list[Result], title: str) -> str:
    w = max([len("overall"), *(len(r.trace) for r in results)])
    lines = [title, f"{'trace':<{w}} {'ops':>8} {'peak live':>11} {'heap size':>11} "
             f"{'util':>7} {'Kops/s':>9}"]
    for r in results:
        hs = "n/a" if r.heap_size is None else str(r.heap_size)
        lines.append(f"{r.trace:<{w}} {r.ops:>8} {r.peak_live:>11} {hs:>11} "
                     f"{_pct(r.utilization):>7} {r.ops_per_sec / 1000:>9.1f}")
    lines.append(f"{'overall':<{w}} {sum(r.ops for r in results):>8} {'':>11} {'':>11} "
                 f"{_pct(_mean_util(results)):>7} {_kops(results):>9.1f}")
    lines.append("util: peak live requested bytes / heap size at the end (overall: the mean "
                 "over traces); Kops/s: operations per second through the Python API "
                 "(overall: total operations / total time)")
    return "\n".join(lines)


def format_compare(table: dict[str, list[Result]], traces: list[str], title: str) -> str:
    names = list(table)
    w = max([len("throughput Kops/s"), *(len(t) for t in traces)])
    cw = max(10, *(len(n) for n in names))
    lines = [title, f"{'utilization':<{w}}" + "".join(f" {n:>{cw}}" for n in names)]
    for k, t in enumerate(traces):
        lines.append(f"{t:<{w}}" + "".join(f" {_pct(table[n][k].utilization):>{cw}}"
                                           for n in names))
    lines.append(f"{'mean':<{w}}" + "".join(f" {_pct(_mean_util(table[n])):>{cw}}"
                                            for n in names))
    lines.append(f"{'throughput Kops/s':<{w}}" + "".join(f" {_kops(table[n]):>{cw}.1f}"
                                                         for n in names))
    lines.append("utilization: peak live requested bytes / heap size at the end (glibc: its "
                 "peak footprint, mallinfo2 arena + hblkhd); throughput: total operations / "
                 "total time, each call made from Python (heapviz's API, glibc through ctypes)")
    return "\n".join(lines)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = __doc__
    parser.add_argument("files", nargs="+", metavar="FILE.rep", help="malloc-lab trace files")
    parser.add_argument("--compare", action="store_true",
                        help="run every policy and glibc's malloc; print one table")
    # The heap's options, spelled as in every subcommand (heapviz.options), with the lab's
    # defaults; --no-footer: footers on free blocks only.
    options.add_arguments(parser, title="heap options",
                          exclude=("size", "base", "mmap_threshold", "split_threshold",
                                   "magic", "stack_size"),
                          defaults={"policy": "first", "align": 8, "order": "address",
                                    "coalesce": "immediate", "footer": True, "checks": "off"})
    parser.add_argument("--record", action="store_true",
                        help="record events while replaying (default: off, for speed)")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="timed runs per trace; throughput is their median (default: 1)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")


def _progress_enabled(traces: list[Trace], allocators: int, quiet: bool) -> bool:
    return not quiet and sum(t.num_ops for t in traces) * allocators >= 100_000


def main(args: argparse.Namespace) -> int:
    try:
        traces = [read_trace(f) for f in args.files]
    except TraceError as e:
        print(f"heapviz trace: error: {e}", file=sys.stderr)
        return 2
    if args.repeat < 1:
        print("heapviz trace: error: --repeat must be at least 1", file=sys.stderr)
        return 2
    if args.max_size is not None and not 4096 <= args.max_size <= HEAP_MAX:
        print(f"heapviz trace: error: --max-size must be between 4096 and {HEAP_MAX}",
              file=sys.stderr)
        return 2
    opt = HeapOptions(align=args.align, order=args.order, coalesce=args.coalesce,
                      footer=args.footer, record=args.record, checks=args.checks,
                      max_size=args.max_size)
    allocators = list(ALLOCATORS) if args.compare else [args.policy]
    progress = Progress(len(traces) * len(allocators),
                        _progress_enabled(traces, len(allocators), args.quiet))
    table: dict[str, list[Result]] = {a: [] for a in allocators}
    try:
        for a in allocators:
            for t in traces:
                progress.step(f"{t.name} under {a}")
                if a == GLIBC:
                    r = replay_glibc(t, align=args.align, repeat=args.repeat)
                else:
                    r = replay(t, a, opt, repeat=args.repeat)
                table[a].append(r)
    except ReplayError as e:
        progress.clear()
        hint = (" (the heap could not grow: try a larger --max-size)"
                if "out of memory" in e.reason and e.allocator != GLIBC else "")
        print(f"heapviz trace: FAILED: {e}{hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        progress.clear()
        print("heapviz trace: interrupted", file=sys.stderr)
        return 130
    if args.json:
        json.dump({a: [r.as_dict() for r in rs] for a, rs in table.items()}, sys.stdout,
                  indent=1)
        print()
        return 0
    settings = (f"align={opt.align} checks={opt.checks} record={'on' if opt.record else 'off'}"
                f" footer={'on' if opt.footer else 'free blocks only'}")
    if args.compare:
        title = (f"heapviz trace --compare ({settings}; fit policies: order={opt.order} "
                 f"coalesce={opt.coalesce}); every run checked: aligned, inside the heap, "
                 "no overlap, content kept")
        print(format_compare(table, [t.name for t in traces], title))
    else:
        title = (f"heapviz trace: policy={args.policy} {settings}; every run checked: "
                 "aligned, inside the heap, no overlap, content kept")
        print(format_single(table[args.policy], title))
    return 0
