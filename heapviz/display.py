"""Jupyter views of a heap: inline pictures, an interactive timeline, a live widget.

A ``Heap`` (and ``h.snapshot()``) shows itself inline through ``_repr_mimebundle_``:

* ``image/png`` — the renderer's picture (the window's, headless);
* ``image/svg+xml`` — the same scene (``heapviz.render.scene``) written as SVG;
* ``text/html`` — an interactive view: the scenes of the recorded history (sampled when it is
  long) as JSON with a small self-contained script that draws them, a timeline slider to scrub
  them without a running kernel (it still works in a notebook exported to HTML), and the block
  record under the mouse (header fields, requested and allocated size, alloc/free sites).
  Without JavaScript (an untrusted notebook, GitHub) the picture of the last moment still
  shows.

``h.watch()`` puts a live ipywidgets widget under the cell: it follows later cells (at most
``WATCH_HZ`` refreshes a second, through the heap's step hook), with back/step buttons and a
slider over the history.  When IPython runs, a ``HeapError`` raised in a cell is followed by the
picture of its heap at the moment of the error (``install()``).

    >>> h = heapviz.Heap(); p = h.malloc(24)
    >>> h                         # in a notebook: the interactive view
    >>> h.snapshot()              # a frozen copy of now, e.g. to compare with later
    >>> w = h.watch()             # a live widget under this cell
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import gc
import html as _html
import json
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from heapviz import _core, render

WIDTH = 900  # px: the scenes of the notebook views
MAX_FRAMES = 120  # moments embedded in one HTML view (sampled beyond that)
JSON_BUDGET = 600_000  # bytes of embedded scene data before sampling harder
FALLBACK_SVG_MAX = 250_000  # bytes: a bigger last-moment picture is embedded as PNG
SVG_MAX = 1_000_000  # bytes: image/svg+xml is left out of the bundle beyond this
LEDGER_EVENTS = 300_000  # past-moment block details up to this many events
WATCH_HZ = 10.0  # live widget refreshes a second, at most

_HERE = os.path.dirname(os.path.abspath(__file__))
_MIME_PNG, _MIME_SVG, _MIME_HTML, _MIME_TEXT = "image/png", "image/svg+xml", "text/html", (
    "text/plain")
_ALL_MIMES = (_MIME_TEXT, _MIME_PNG, _MIME_SVG, _MIME_HTML)

_EV = _core.EVENT_KINDS
_K = {name: i for i, name in enumerate(_EV)}
_SUB, _FAILED = _core.EVF_SUB, _core.EVF_FAILED
_MOVED, _INPLACE = _core.EVF_MOVED, _core.EVF_INPLACE
_ERROR = _K["error"]


# --------------------------------------------------------------------------------------------
# IPython: the shell, the user's variables, cell names
# --------------------------------------------------------------------------------------------
def _shell() -> Any:
    """The running IPython shell, or None (without importing IPython into a plain script)."""
    if "IPython" not in sys.modules:
        return None
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def user_vars(h: Any) -> dict[str, int]:
    """The names bound to Pointers into `h`: the notebook's namespace under IPython, else the
    caller's frame (as heapviz.render does for scripts)."""
    shell = _shell()
    if shell is None:
        return render.pointer_vars(h)
    from heapviz import Pointer

    out: dict[str, int] = {}
    for name, value in list(shell.user_ns.items()):
        if len(out) >= 32:
            break
        if name.startswith("_") or not isinstance(value, Pointer):
            continue
        if getattr(value, "heap", None) is h and int(value) != 0:
            out[name] = int(value)
    return out


_CELL_FILE = re.compile(r"ipykernel_\d+[/\\]\d+\.py$|<ipython-input-(\d+)-")


def site_text(site: Any) -> str:
    """A site as a student reads it: `In [3] line 2` for a notebook cell, else `file.py:12`."""
    if site is None:
        return "?"
    file, line = str(site.file), int(site.line)
    m = _CELL_FILE.search(file)
    if m:
        if m.group(1):
            return f"In [{m.group(1)}] line {line}"
        shell = _shell()
        number = None
        if shell is not None:
            with contextlib.suppress(Exception):
                number = shell.compile._filename_map.get(file)
        return f"In [{number}] line {line}" if number is not None else f"cell line {line}"
    return f"{os.path.basename(file)}:{line}"


# --------------------------------------------------------------------------------------------
# The ledger: block records at past moments, rebuilt from the recorded events
# --------------------------------------------------------------------------------------------
@dataclass
class _Rec:
    addr: int
    size: int
    state: str  # allocated, free, mmapped, mapping, stack, sbrk
    payload: int = 0
    requested: int = 0
    alloc_op: int = 0
    alloc_site: int = 0
    free_op: int = 0
    free_site: int = 0
    lost_site: int = 0


@dataclass
class _Step:
    """One operation group of the history (what the Replay calls an op)."""

    op: int  # the op id of its events
    first_seq: int
    text: str = ""
    site: int = 0
    error: bool = False


class Ledger:
    """Block records through the history, from the events alone (sites included).

    The C replay re-runs operations and knows everything but sites; this keeps, per block,
    what a student hovers for: state, sizes, header fields, where it was allocated and freed.
    Feed it events in order with `apply`; `records()` gives the blocks of the moment reached.
    Split events only propose a cut: the malloc that follows says where the block is."""

    def __init__(self, h: Any) -> None:
        lay = h.layout
        self.buddy = h.policy == "buddy"
        self.hdr, self.ftr = int(lay["header_size"]), int(lay["footer_size"])
        self.heap_base, self.pad = int(lay["heap_base"]), int(lay["heap_pad"])
        self.mmap_base = int(lay["mmap_base"])
        self.blocks_: dict[int, _Rec] = {}
        self.addrs: list[int] = []  # sorted keys of blocks_
        self.by_payload: dict[int, int] = {}  # payload -> block address, live allocations
        self.op = -1
        self.split_pieces: list[int] = []  # remainders made by splits of the current op
        brk0 = self._initial_break(h)
        if self.buddy:
            self._put(_Rec(self.heap_base, brk0 - self.heap_base, "free"))
        elif brk0 - self.heap_base > self.pad + self.hdr:
            self._put(_Rec(self.heap_base + self.pad, brk0 - self.heap_base - self.pad - self.hdr,
                           "free"))

    @staticmethod
    def _initial_break(h: Any) -> int:
        first, count = h._history()
        for lo in range(first, count, 8192):
            for ev in h._events(lo, min(count, lo + 8192)):
                if ev[2] == _K["grow"]:
                    return int(ev[5])
                if ev[2] == _K["shrink"]:
                    return int(ev[5]) + int(ev[6])
        return int(h.brk)

    # --- the sorted map ------------------------------------------------------------------
    def _put(self, r: _Rec) -> _Rec:
        if r.addr not in self.blocks_:
            bisect.insort(self.addrs, r.addr)
        self.blocks_[r.addr] = r
        return r

    def _drop(self, addr: int) -> _Rec | None:
        r = self.blocks_.pop(addr, None)
        if r is not None:
            i = bisect.bisect_left(self.addrs, addr)
            del self.addrs[i]
            if r.payload and self.by_payload.get(r.payload) == addr:
                del self.by_payload[r.payload]
        return r

    def _containing(self, addr: int) -> _Rec | None:
        i = bisect.bisect_right(self.addrs, addr) - 1
        if i < 0:
            return None
        r = self.blocks_[self.addrs[i]]
        return r if r.addr <= addr < r.addr + r.size else None

    def _within(self, lo: int, hi: int) -> list[int]:
        """Block addresses in [lo, hi)."""
        return self.addrs[bisect.bisect_left(self.addrs, lo):bisect.bisect_left(self.addrs, hi)]

    # --- events ---------------------------------------------------------------------------
    def _undo_splits(self) -> None:
        """Merge back the remainders of this op's splits."""
        for addr in reversed(self.split_pieces):
            r = self.blocks_.get(addr)
            if r is None or r.state != "free":
                continue
            left = self._containing(addr - 1)
            if left is not None and left.state == "free" and left.addr + left.size == addr:
                left.size += r.size
                self._drop(addr)
        self.split_pieces.clear()

    def _carve(self, addr: int, size: int) -> _Rec:
        """Make [addr, addr+size) one block, leaving free remainders around it."""
        r = self.blocks_.get(addr)
        if r is not None and r.size == size:
            return r
        self._undo_splits()
        host = self._containing(addr)
        if host is not None:
            end = host.addr + host.size
            if host.addr < addr:
                host.size = addr - host.addr
            else:
                self._drop(host.addr)
            if addr + size < end:
                self._put(_Rec(addr + size, end - addr - size, "free"))
        for a in self._within(addr + 1, addr + size):  # merged into the new block
            self._drop(a)
        return self._put(_Rec(addr, size, "free"))

    def apply(self, ev: tuple[Any, ...]) -> None:
        _seq, op, kind, flags, site, addr, size, a, b = ev
        if op != self.op:
            self.op = op
            self.split_pieces.clear()
        name = _EV[kind] if kind < len(_EV) else ""
        if name == "split":
            r = self.blocks_.get(addr)
            if r is None:
                return
            rest = r.size - size
            r.size = size
            self._put(_Rec(a, b or rest, "free"))
            self.split_pieces.append(a)
        elif name == "coalesce":
            self._drop(a)
            r = self.blocks_.get(addr) or self._carve(addr, size)
            r.size = size
            if r.state not in ("allocated", "mmapped"):
                r.state = "free"
        elif name in ("malloc", "calloc") and not flags & _FAILED:
            if a >= self.mmap_base:
                r = self.blocks_.get(a) or self._put(_Rec(a, b, "mapping"))
                r.state = "mmapped"
            else:
                r = self._carve(a, b)
                r.state = "allocated"
            if r.payload and self.by_payload.get(r.payload) == r.addr:
                del self.by_payload[r.payload]
            r.payload, r.requested, r.alloc_op, r.alloc_site = addr, size, op, site
            r.free_op = r.free_site = r.lost_site = 0
            self.by_payload[addr] = r.addr
        elif name == "realloc" and not flags & _FAILED:
            r = self.blocks_.get(self.by_payload.get(addr, -1))
            if r is not None:
                r.requested, r.alloc_op, r.alloc_site = size, op, site
        elif name == "free":
            r = self.blocks_.get(a) if a else self.blocks_.get(self.by_payload.get(addr, -1))
            if r is not None:
                if r.state in ("mmapped", "mapping"):
                    self._drop(r.addr)
                else:
                    self.by_payload.pop(r.payload, None)
                    r.state, r.free_op, r.free_site = "free", op, site
        elif name == "grow":
            start = addr if self.buddy else addr - self.hdr
            if flags & _SUB:
                self._put(_Rec(start, size, "free"))
            else:
                self._put(_Rec(start, size, "sbrk", alloc_op=op, alloc_site=site))
        elif name == "shrink":
            for x in self._within(addr - self.hdr, self.mmap_base):
                self._drop(x)
        elif name == "mmap":
            self._put(_Rec(addr, size, "mapping", alloc_op=op, alloc_site=site))
        elif name == "munmap":
            self._drop(addr)
        elif name == "stack_alloc":
            self._put(_Rec(addr, size, "stack", payload=addr, requested=size, alloc_op=op,
                           alloc_site=site))
        elif name == "frame_pop":
            for x in self._within(addr, addr + max(size, 1)):
                if self.blocks_[x].state == "stack":
                    self._drop(x)
        elif name == "lost":
            r = self.blocks_.get(a)
            if r is not None:
                r.lost_site = site or -1

    def records(self) -> list[_Rec]:
        return [self.blocks_[a] for a in self.addrs]

    def walk(self) -> Iterator[tuple[_Rec, bool]]:
        """Each block with its header's prev-allocated bit (raw sbrk bytes carry a header
        marked allocated, as the allocator sees them)."""
        prev = True
        for a in self.addrs:
            r = self.blocks_[a]
            yield r, prev
            if r.state in ("allocated", "free", "sbrk"):
                prev = r.state != "free"

    def header_word(self, r: _Rec, prev_alloc: bool) -> int:
        alloc = r.state in ("allocated", "mmapped", "sbrk")
        if r.state in ("mmapped",) or self.buddy:
            return r.size | int(alloc)
        return r.size | int(alloc) | (2 if prev_alloc else 0)


def _fmt_site(h: Any, site_id: int, cache: dict[int, str]) -> str:
    if site_id <= 0:
        return ""
    if site_id not in cache:
        from heapviz.heap import _site

        cache[site_id] = site_text(_site(h, site_id))
    return cache[site_id]


def _record_of_rec(led: Ledger, r: _Rec, prev_alloc: bool, sites: dict[int, str],
                   h: Any) -> dict[str, Any]:
    """The hover record of a ledger block (the same keys as _record_of_block)."""
    heap_block = r.state in ("allocated", "free")
    word = led.header_word(r, prev_alloc) if heap_block or r.state == "mmapped" else 0
    payload = r.payload or (r.addr + led.hdr if heap_block else r.addr)
    ftr = led.ftr if heap_block and (led.ftr or r.state == "free") else 0
    usable = r.size - (payload - r.addr) - (led.ftr if heap_block else 0)
    return _record(
        addr=r.addr, state=r.state, size=r.size, payload=payload, usable=usable,
        requested=r.requested if r.state in ("allocated", "mmapped", "stack") else 0,
        header=word if word else None, header_size=payload - r.addr if word else 0,
        footer=word if ftr and word else None,
        prev_alloc=prev_alloc if heap_block and not led.buddy else None,
        alloc=_fmt_site(h, r.alloc_site, sites), alloc_op=r.alloc_op,
        free=_fmt_site(h, r.free_site, sites) if r.state == "free" else "",
        lost=r.lost_site != 0 and r.state == "allocated",
    )


def _record(*, addr: int, state: str, size: int, payload: int, usable: int, requested: int,
            header: int | None, header_size: int, footer: int | None, prev_alloc: bool | None,
            alloc: str, alloc_op: int, free: str, lost: bool,
            held: Iterable[str] = ()) -> dict[str, Any]:
    """A block record as the HTML view shows it on hover (compact JSON; display.js reads
    a: address, s: state, z: size, po: payload offset, u: usable, r: requested, h: header
    fields [size, allocated(, prev allocated)], hs: header bytes, f: footer (1: a copy of
    the header, else its word), as/fs: alloc/free site, lost, v: variables)."""
    rec: dict[str, Any] = {"a": f"0x{addr:x}", "s": state, "z": size}
    if state in ("allocated", "mmapped", "free", "stack"):
        rec["po"] = payload - addr
        rec["u"] = max(usable, 0)
    if requested:
        rec["r"] = requested
    if header is not None:
        fields = [header & ~0x7, header & 1] + ([(header >> 1) & 1] if prev_alloc is not None
                                                else [])
        rec["h"] = fields
        rec["hs"] = header_size
        if footer is not None:
            rec["f"] = 1 if footer == header else f"0x{footer:08x}"
    if alloc:
        rec["as"] = alloc + (f" (op {alloc_op})" if alloc_op else "")
    if free:
        rec["fs"] = free
    if lost:
        rec["lost"] = 1
    held = list(held)
    if held:
        rec["v"] = held
    return rec


def _record_of_block(b: Any, buddy: bool, held: Iterable[str]) -> dict[str, Any]:
    """The hover record of a live Block (exact: read from the heap)."""
    heap_block = b.state in ("allocated", "free")
    has_header = heap_block or b.state == "mmapped"
    return _record(
        addr=b.address, state=b.state, size=b.size, payload=b.payload, usable=b.payload_size,
        requested=b.requested if b.state != "free" else 0,
        header=b.header if has_header else None,
        header_size=(b.payload - b.address) if has_header else 0,
        footer=b.footer if b.has_footer and heap_block else None,
        prev_alloc=b.prev_alloc if heap_block and not buddy else None,
        alloc=site_text(b.site) if b.site and b.state != "free" else "",
        alloc_op=b.seq if b.state != "free" else 0,
        free=site_text(b.free_site) if b.free_site and b.state == "free" else "",
        lost=False, held=held,
    )


# --------------------------------------------------------------------------------------------
# Steps (operation groups) and their one-line descriptions
# --------------------------------------------------------------------------------------------
def _describe(h: Any, evs: list[tuple[Any, ...]], reports: dict[int, str]) -> tuple[str, int,
                                                                                     bool]:
    """What one operation group did, in C's words; its site; whether it was an error."""
    text, site, error = "", 0, False
    for ev in evs:
        _seq, _op, kind, flags, s, addr, size, a, b = ev
        name = _EV[kind] if kind < len(_EV) else "?"
        if flags & _SUB:
            continue
        site = site or s
        if name == "malloc":
            text = f"malloc({size}) → " + ("NULL" if flags & _FAILED else f"0x{addr:x}")
        elif name == "calloc":
            text = f"calloc(… {size} B) → " + ("NULL" if flags & _FAILED else f"0x{addr:x}")
        elif name == "realloc":
            how = " (moved)" if flags & _MOVED else " (in place)" if flags & _INPLACE else ""
            res = "NULL" if flags & _FAILED else f"0x{addr:x}"
            text = f"realloc(0x{a:x}, {size}) → {res}{how}"
        elif name == "free":
            text = f"free(0x{addr:x})"
        elif name == "grow":
            text = f"sbrk({size}): the break moves up to 0x{addr + size:x}"
        elif name == "shrink":
            text = f"sbrk(-{size}): the break moves down to 0x{addr:x}"
        elif name == "mmap":
            text = f"mmap({size}) → 0x{addr:x}"
        elif name == "munmap":
            text = f"munmap(0x{addr:x}, {size})"
        elif name == "error":
            error = True
            if b not in reports:
                info = h._site_info(b) if b else None
                reports[b] = str(info[0]).splitlines()[0] if info else "memory error"
            text = "✖ " + reports[b]
        elif name == "lost":
            text = f"leak: the last pointer to 0x{addr:x} ({size} B) is gone"
        elif name == "note":
            info = h._site_info(a) if a else None
            text = f"note: {info[0]}" if info else "note"
        elif name == "frame_push":
            info = h._site_info(b) if b else None
            who = f"{info[0]}()" if info and info[2] == "frame" else "a function"
            text = f"call {who}: a stack frame is pushed"
        elif name == "frame_pop":
            text = "return: the stack frame is popped, its locals die"
        elif name == "stack_alloc":
            text = f"stack allocation of {size} B at 0x{addr:x}"
        elif name == "fail" and not text:
            text = f"request of {size} B failed"
        elif not text:
            text = name
    return text, site, error


def steps(h: Any) -> list[_Step]:
    """The operation groups of the history, as the C replay counts them (see viz/replay.c)."""
    first, count = h._history()
    out: list[_Step] = []
    last = None
    for lo in range(first, count, 8192):
        for ev in h._events(lo, min(count, lo + 8192)):
            if out and ev[1] == last:
                if ev[2] == _ERROR:
                    out[-1].error = True
                continue
            out.append(_Step(op=ev[1], first_seq=ev[0], error=ev[2] == _ERROR))
            last = ev[1]
    return out


def _sample(n_steps: int, max_frames: int, keep: Iterable[int]) -> list[int]:
    """Frame indexes 0..n_steps (after k steps): all when few, else evenly sampled, always
    with the first, the last and the `keep` ones (errors)."""
    total = n_steps + 1
    if total <= max_frames:
        return list(range(total))
    must = {0, n_steps} | {k for k in keep if 0 <= k <= n_steps}
    must = set(sorted(must)[-max(2, max_frames // 3):]) | {0, n_steps}
    room = max(2, max_frames - len(must))
    step = n_steps / (room - 1)
    return sorted(must | {round(i * step) for i in range(room)})


def _thin(frames: list[int], room: int, prefer: set[int]) -> list[int]:
    """At most `room` of `frames`, evenly spread, the preferred (errors) first."""
    if room <= 0:
        return []
    if len(frames) <= room:
        return frames
    first = [f for f in frames if f in prefer][:room]
    rest = [f for f in frames if f not in prefer]
    n = room - len(first)
    picked = [rest[round(i * (len(rest) - 1) / max(n - 1, 1))] for i in range(n)] if n else []
    return sorted(set(first) | set(picked))


# --------------------------------------------------------------------------------------------
# Scenes → compact JSON (items deduplicated across frames) and SVG
# --------------------------------------------------------------------------------------------
_KINDS = ("rect", "box", "hatch", "line", "arrow", "text")
_STYLES = ("solid", "dotted", "jagged", "thick")


class _Packer:
    """Tables shared by every frame of a view: colours, strings, addresses, items."""

    def __init__(self) -> None:
        self.colors: dict[str, int] = {}
        self.strings: dict[str, int] = {}
        self.addrs: dict[int, int] = {0: 0}
        self.items: dict[tuple[Any, ...], int] = {}
        self.recs: dict[str, int] = {}
        self.bytes = 0  # about what the tables and frames weigh as JSON

    def _ix(self, table: dict[Any, int], key: Any) -> int:
        i = table.get(key)
        if i is None:
            i = table[key] = len(table)
            self.bytes += len(key) + 3 if isinstance(key, str) else 3 * len(key) + 2 if \
                isinstance(key, tuple) else 12
        return i

    def item(self, it: Mapping[str, Any]) -> int:
        k = _KINDS.index(it["kind"])
        extra: tuple[int, ...] = ()
        if it["kind"] == "text":
            flags = (1 if it.get("small") else 0) | (2 if it.get("bold") else 0)
            extra = (self._ix(self.strings, it.get("text", "")), flags)
        elif it["kind"] == "box":
            extra = (_STYLES.index(it.get("style", "solid")),)
        elif it["kind"] == "arrow":
            extra = (int(it.get("bend", 0)),)
        key = (k, self._ix(self.colors, it["color"]), it["x"], it["y"], it["w"], it["h"],
               self._ix(self.addrs, int(it.get("addr", 0))), 1 if it.get("scroll") else 0,
               *extra)
        return self._ix(self.items, key)

    def addr(self, a: int) -> int:
        return self._ix(self.addrs, a)

    def rec(self, rec: Mapping[str, Any]) -> int:
        return self._ix(self.recs, json.dumps(rec, separators=(",", ":"), sort_keys=True))

    def tables(self) -> dict[str, Any]:
        return {
            "colors": list(self.colors),
            "strings": list(self.strings),
            "addrs": [f"0x{a:x}" for a in self.addrs],
            "items": [list(k) for k in self.items],
            "recs": [json.loads(r) for r in self.recs],
        }


def _esc(s: str) -> str:
    return _html.escape(s, quote=True)


def _arrow_svg(x0: int, y0: int, x1: int, y1: int, bend: int, color: str) -> str:
    """A quadratic Bézier with a filled head, as viz/draw.c draws arrows."""
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0 - 2.0 * bend
    tx, ty = (x1 - cx, y1 - cy) if bend else (x1 - x0, y1 - y0)
    path = (f'<path d="M{x0} {y0}Q{cx:g} {cy:g} {x1} {y1}" fill="none" stroke="{color}" '
            f'stroke-width="2"/>')
    n = (tx * tx + ty * ty) ** 0.5
    if n < 1:
        return path
    tx, ty = tx / n, ty / n
    pts = [(x1, y1 + 1), (x1 - 8 * tx + 4 * ty, y1 - 8 * ty - 4 * tx + 1),
           (x1 - 8 * tx - 4 * ty, y1 - 8 * ty + 4 * tx + 1)]
    return path + '<polygon points="{}" fill="{}"/>'.format(
        " ".join(f"{x:.1f},{y:.1f}" for x, y in pts), color)


def _jagged(x: int, y: int, w: int, h: int) -> str:
    top = " ".join(f"{x + i},{y + (i % 6 if i % 6 < 3 else 6 - i % 6)}" for i in range(0, w + 1, 3))
    bot = " ".join(f"{x + i},{y + h - 1 - (i % 6 if i % 6 < 3 else 6 - i % 6)}"
                   for i in range(0, w + 1, 3))
    return f"M{top.replace(' ', 'L', 1)}M{bot.replace(' ', 'L', 1)}".replace(" ", "L")


def item_svg(it: Mapping[str, Any], clip_id: str = "") -> str:
    """One scene item as SVG (the JS renderer in display.js writes the same markup)."""
    k, c = it["kind"], it["color"]
    x, y, w, h = int(it["x"]), int(it["y"]), int(it["w"]), int(it["h"])
    addr = int(it.get("addr", 0))
    data = f' data-a="0x{addr:x}"' if addr else ""
    clip = f' clip-path="url(#{clip_id})"' if clip_id and it.get("scroll") else ""
    if k == "rect":
        return f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{c}"{data}{clip}/>'
    if k == "hatch":
        pid = "hv-hatch-" + c.lstrip("#")
        return (f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="url(#{pid})"{data}'
                f'{clip}/>')
    if k == "box":
        style = it.get("style", "solid")
        if style == "jagged":
            return (f'<path d="{_jagged(x, y, w, h)}" fill="none" stroke="{c}" '
                    f'stroke-width="2"{data}{clip}/>')
        sw, dash = (2, "") if style == "thick" else (1, ' stroke-dasharray="2 2"' if
                                                     style == "dotted" else "")
        o = sw / 2
        return (f'<rect x="{x + o:g}" y="{y + o:g}" width="{max(w - sw, 0)}" '
                f'height="{max(h - sw, 0)}" fill="none" stroke="{c}" stroke-width="{sw}"'
                f'{dash}{data}{clip}/>')
    if k == "line":
        return (f'<line x1="{x + 0.5}" y1="{y + 0.5}" x2="{x + w + 0.5}" y2="{y + h + 0.5}" '
                f'stroke="{c}"{clip}/>')
    if k == "arrow":
        body = _arrow_svg(x, y, x + w, y + h, int(it.get("bend", 0)), c)
        return f"<g{clip}>{body}</g>" if clip else body
    if k == "text":
        small = bool(it.get("small"))
        size = 11 if small else 14
        base = y + (10 if small else 13)
        bold = ' font-weight="bold"' if it.get("bold") else ""
        text = str(it.get("text", ""))
        fit = f' textLength="{w}" lengthAdjust="spacingAndGlyphs"' if w > 0 and text else ""
        return (f'<text x="{x}" y="{base}" font-size="{size}"{bold} fill="{c}"{fit}{clip}>'
                f"{_esc(text).replace(' ', chr(0xA0))}</text>")
    return ""


_FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"


def scene_svg(sc: Mapping[str, Any], height: int | None = None, *, title: str = "") -> str:
    """A scene (render.scene) as a standalone SVG document, pixel for pixel its layout."""
    width, hh = int(sc["width"]), int(height or sc["height"])
    clip_id = "hv-clip-" + uuid.uuid4().hex[:8]
    y0, y1 = sc.get("clip", (0, hh))
    hatches = sorted({it["color"] for it in sc["items"] if it["kind"] == "hatch"})
    defs = [f'<clipPath id="{clip_id}"><rect x="0" y="{y0}" width="{width}" '
            f'height="{max(0, y1 - y0)}"/></clipPath>']
    for c in hatches:
        defs.append(
            f'<pattern id="hv-hatch-{c.lstrip("#")}" width="5" height="5" '
            f'patternUnits="userSpaceOnUse"><path d="M-1 1L1 -1M0 5L5 0M4 6L6 4" '
            f'stroke="{c}" stroke-width="1"/></pattern>')
    body = "".join(item_svg(it, clip_id) for it in sc["items"])
    t = f"<title>{_esc(title)}</title>" if title else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{hh}" '
            f'viewBox="0 0 {width} {hh}" font-family="{_FONT}" xml:space="preserve" '
            f'style="white-space:pre">{t}'
            f'<defs>{"".join(defs)}</defs>'
            f'<rect width="{width}" height="{hh}" fill="{sc["background"]}"/>{body}</svg>')


# --------------------------------------------------------------------------------------------
# The pictures of now
# --------------------------------------------------------------------------------------------
def png(h: Any, width: int = WIDTH, at: int | None = None, vars: Any = None) -> bytes:
    """The renderer's PNG of `h` (now, or after `at` steps)."""
    if vars is None and at is None:
        vars = user_vars(h)
    return render.render_png(h, width=width, at=at, vars=vars)


def svg(h: Any, width: int = WIDTH, at: int | None = None, vars: Any = None) -> str:
    """The same picture as SVG, built from the renderer's scene."""
    if vars is None and at is None:
        vars = user_vars(h)
    sc = render.scene(h, width=width, at=at, vars=vars)
    return scene_svg(sc, title=f"heapviz: {_policy_line(h)}")


def _policy_line(h: Any) -> str:
    return f"policy {h.policy} · order {h.order} · coalesce {h.coalesce} · align {h.align}"


# --------------------------------------------------------------------------------------------
# The interactive HTML view
# --------------------------------------------------------------------------------------------
def _asset(name: str) -> str:
    with open(os.path.join(_HERE, name), encoding="utf-8") as f:
        return f.read()


@dataclass
class Timeline:
    """The data of one HTML view: packed scenes of sampled moments and their records."""

    data: dict[str, Any]
    final_scene: dict[str, Any]
    frames: list[int] = field(default_factory=list)
    fallback: str = ""  # the last moment without JavaScript: SVG, or a PNG when SVG is big


def _frame_budget(n_items: int, max_frames: int) -> int:
    """How many moments fit JSON_BUDGET when each scene has about n_items items (pessimistic:
    as if no item were shared between moments)."""
    return max(2, min(max_frames, JSON_BUDGET // max(1, n_items * 8)))


def timeline(h: Any, *, width: int = WIDTH, max_frames: int = MAX_FRAMES,
             error: BaseException | None = None) -> Timeline:
    """Sample the history, draw each moment's scene, and attach hover records.

    The last frame is the heap now (read live: exact, with the variables that point into
    each block); earlier ones are replays (viz Replay) with records from the Ledger."""
    viz = render.viz()
    live_vars = user_vars(h)
    final = dict(viz.scene(h._capsule(), width=width, vars=None))
    first, count = h._history()
    st = steps(h) if first == 0 else []
    n = len(st)
    notes: list[str] = []
    if first > 0:
        notes.append(f"the history was truncated (events before {first} are gone): only "
                     "the present can be drawn, no timeline")
    bounds = [s.first_seq for s in st] + [count]
    budget = _frame_budget(len(final["items"]), max_frames)
    frames = _sample(n, budget, [i + 1 for i, s in enumerate(st) if s.error]) if n else [0]
    reports: dict[int, str] = {}
    for k in frames:
        if k > 0:
            s = st[k - 1]
            evs = h._events(bounds[k - 1], min(bounds[k], bounds[k - 1] + 4096))
            s.text, s.site, s.error = _describe(h, evs, reports)
    pk = _Packer()
    sites: dict[int, str] = {}
    rec_memo: dict[tuple[Any, ...], int] = {}
    out_frames: list[dict[str, Any]] = []
    height = int(final["height"])
    ledger = Ledger(h) if first == 0 and count <= LEDGER_EVENTS else None
    if ledger is None and first == 0:
        notes.append(f"block details on hover only for the last moment (more than "
                     f"{LEDGER_EVENTS} events)")
    replay = viz.Replay(h._capsule()) if n else None
    seq_pos = 0
    buddy = h.policy == "buddy"
    errors = {i + 1 for i, s in enumerate(st) if s.error}
    plan, j, before = list(frames), 0, 0
    while j < len(plan):
        k = plan[j]
        j += 1
        if k == n:
            sc = final
        else:
            assert replay is not None
            replay.goto(k)
            sc = dict(viz.scene(replay, width=width, vars=None))
        height = max(height, int(sc["height"]))
        addrs = {int(it["addr"]) for it in sc["items"] if it.get("addr")}
        recs: list[list[int]] = []
        if k == n:
            blocks = h.blocks()
            held: dict[int, list[str]] = {}
            starts = [b.address for b in blocks]
            for name, v in live_vars.items():
                i = bisect.bisect_right(starts, v) - 1
                if i >= 0 and v < blocks[i].address + blocks[i].size:
                    held.setdefault(blocks[i].address, []).append(name)
            for b in blocks:
                if b.address in addrs:
                    rec = _record_of_block(b, buddy, held.get(b.address, ()))
                    recs.append([pk.addr(b.address), pk.rec(rec)])
        elif ledger is not None:
            while seq_pos < bounds[k]:
                hi = min(bounds[k], seq_pos + 8192)
                for ev in h._events(seq_pos, hi):
                    ledger.apply(ev)
                seq_pos = hi
            for r, prev_alloc in ledger.walk():
                if r.addr in addrs:
                    key = (r.addr, r.size, r.state, r.payload, r.requested, r.alloc_op,
                           r.free_op, r.lost_site != 0, prev_alloc)
                    ri = rec_memo.get(key)
                    if ri is None:
                        ri = rec_memo[key] = pk.rec(_record_of_rec(ledger, r, prev_alloc,
                                                                   sites, h))
                    recs.append([pk.addr(r.addr), ri])
        s = st[k - 1] if k > 0 else None
        out_frames.append({
            "k": k,
            "i": [pk.item(it) for it in sc["items"]],
            "c": list(sc.get("clip", (0, sc["height"]))),
            "b": recs,
            "d": (s.text if s else "the start: nothing allocated yet") if n else "now",
            "s": _fmt_site(h, s.site, sites) if s else "",
            "e": 1 if s and s.error else 0,
        })
        pk.bytes += 6 * len(out_frames[-1]["i"]) + 8 * len(recs) + 80
        # what this moment cost says how many of the moments still to come fit the budget
        added, before = pk.bytes - before, pk.bytes
        mid = plan[j:-1]
        room = int((JSON_BUDGET - pk.bytes - added) // max(added, 1))
        if mid and len(mid) > room:
            plan = plan[:j] + _thin(mid, max(room, 0), errors) + plan[-1:]
    frames = [f["k"] for f in out_frames]
    if len(frames) < n + 1:
        notes.append(f"{len(frames)} of {n + 1} moments embedded (sampled evenly, errors "
                     "kept): h.watch() or h.show() step through every one")
    var_text = ", ".join(f"{k} → 0x{v:x}" for k, v in live_vars.items())
    data = {
        "v": 1,
        "w": width,
        "h": height,
        "bg": final["background"],
        "n": n,
        "title": _policy_line(h),
        "frames": out_frames,
        "legend": [[c, label] for _role, c, label in render.legend()],
        "notes": notes,
        "vars": var_text,
        "err": str(error).splitlines()[0] if error is not None else "",
        **pk.tables(),
    }
    fallback = scene_svg(final, height=height)
    if len(fallback) > FALLBACK_SVG_MAX:
        png = viz.render(h._capsule(), width=width, vars=None)
        fallback = (f'<img alt="the heap now" width="{width}" '
                    f'src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}"/>')
    return Timeline(data=data, final_scene=final, frames=frames, fallback=fallback)


def html(h: Any, *, width: int = WIDTH, max_frames: int = MAX_FRAMES,
         error: BaseException | None = None) -> str:
    """The interactive view as one self-contained HTML fragment (no external resources)."""
    tl = timeline(h, width=width, max_frames=max_frames, error=error)
    return timeline_html(tl)


def timeline_html(tl: Timeline) -> str:
    vid = "hv" + uuid.uuid4().hex[:10]
    data = json.dumps(tl.data, separators=(",", ":"), ensure_ascii=True)
    data = data.replace("</", "<\\/")  # never close the script element early
    fallback = tl.fallback or scene_svg(tl.final_scene, height=tl.data["h"])
    n = tl.data["n"]
    last = tl.data["frames"][-1]
    legend = "".join(
        f'<span class="hv-key"><i style="background:{c}"></i>{_esc(label)}</span>'
        for c, label in tl.data["legend"])
    notes = "".join(f'<div class="hv-note">{_esc(t)}</div>' for t in tl.data["notes"])
    err = (f'<div class="hv-err">✖ {_esc(tl.data["err"])}</div>' if tl.data["err"] else "")
    nf = len(tl.data["frames"])
    controls = (
        f'<div class="hv-bar"><button class="hv-first" title="first">◀◀</button>'
        f'<button class="hv-back" title="back one step">◀</button>'
        f'<button class="hv-play" title="play">▶︎ play</button>'
        f'<button class="hv-step" title="step forward">▶</button>'
        f'<button class="hv-last" title="last">▶▶</button>'
        f'<input class="hv-slider" type="range" min="0" max="{nf - 1}" value="{nf - 1}" '
        f'step="1" aria-label="timeline"/>'
        f'<span class="hv-pos">step {last["k"]} / {n}</span></div>'
    )
    return (
        f'<div class="heapviz-view" id="{vid}" data-frames="{nf}" data-steps="{n}">'
        f"<style>{_asset('display.css')}</style>"
        f'<div class="hv-title">heapviz · {_esc(tl.data["title"])}</div>{err}'
        f"{controls}"
        f'<div class="hv-desc">{_esc(last["d"])}'
        f'{" — " + _esc(last["s"]) if last["s"] else ""}</div>'
        f'<div class="hv-stage">{fallback}<div class="hv-tip" hidden></div></div>'
        f'<div class="hv-vars">{"variables: " + _esc(tl.data["vars"]) if tl.data["vars"] else ""}'
        f"</div>"
        f'<div class="hv-legend">{legend}</div>{notes}'
        f'<div class="hv-nojs">(the timeline needs JavaScript: run or trust the notebook)</div>'
        f'<script type="application/json" class="hv-data">{data}</script>'
        f"<script>{_asset('display.js')}\n;heapvizView(document.currentScript, "
        f"{json.dumps(vid)});</script>"
        f"</div>"
    )


# --------------------------------------------------------------------------------------------
# Mime bundles, snapshots
# --------------------------------------------------------------------------------------------
def _wanted(include: Any, exclude: Any) -> list[str]:
    inc = set(include) if include else set(_ALL_MIMES)
    exc = set(exclude) if exclude else set()
    return [m for m in _ALL_MIMES if m in inc and m not in exc]


def mimebundle(h: Any, include: Any = None, exclude: Any = None, *,
               error: BaseException | None = None) -> dict[str, Any]:
    """The heap's rich display: PNG, SVG and the interactive HTML (and text)."""
    want = _wanted(include, exclude)
    bundle: dict[str, Any] = {}
    if _MIME_TEXT in want:
        bundle[_MIME_TEXT] = repr(h)
    if getattr(h, "closed", False):
        return bundle
    if not render.available():
        from heapviz import text

        bundle[_MIME_TEXT] = repr(h) + "\n" + text.table(h)
        return bundle
    vars = user_vars(h)
    if _MIME_PNG in want:
        bundle[_MIME_PNG] = base64.b64encode(
            render.render_png(h, width=WIDTH, vars=vars)).decode("ascii")
    if _MIME_SVG in want:
        picture = svg(h, vars=vars)
        if len(picture) <= SVG_MAX:  # a huge heap: the PNG says the same in less
            bundle[_MIME_SVG] = picture
    if _MIME_HTML in want:
        bundle[_MIME_HTML] = html(h, error=error)
    return bundle


class Snapshot:
    """A frozen picture of a heap at one moment: displays the same later, whatever happens
    to the heap (PNG, SVG and the interactive HTML were made when it was taken)."""

    def __init__(self, h: Any, *, error: BaseException | None = None) -> None:
        self.repr = repr(h)
        self.bundle = mimebundle(h, error=error)

    @property
    def png(self) -> bytes:
        return base64.b64decode(self.bundle.get(_MIME_PNG, ""))

    @property
    def svg(self) -> str:
        return str(self.bundle.get(_MIME_SVG, ""))

    @property
    def html(self) -> str:
        return str(self.bundle.get(_MIME_HTML, ""))

    def save(self, path: str) -> None:
        """Write the picture: .png, .svg, or .html (a standalone page with the timeline)."""
        ext = os.path.splitext(path)[1].lower()
        if ext == ".png":
            with open(path, "wb") as f:
                f.write(self.png)
        elif ext == ".svg":
            with open(path, "w", encoding="utf-8") as f:
                f.write(self.svg)
        elif ext in (".html", ".htm"):
            with open(path, "w", encoding="utf-8") as f:
                f.write(page(self.html))
        else:
            raise ValueError(f"Snapshot.save({path!r}): use .png, .svg or .html")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        want = _wanted(include, exclude)
        return {k: v for k, v in self.bundle.items() if k in want}

    def __repr__(self) -> str:
        return f"<heapviz snapshot of {self.repr}>"


def snapshot(h: Any) -> Snapshot:
    """h.snapshot(): a frozen picture of the heap now."""
    return Snapshot(h)


def page(fragment: str, title: str = "heapviz") -> str:
    """A standalone HTML page around a view (what a browser opens)."""
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>{_esc(title)}</title>'
            f"</head><body>{fragment}</body></html>")


# --------------------------------------------------------------------------------------------
# Errors in IPython: show the heap at the moment of the error
# --------------------------------------------------------------------------------------------
_installed: list[Any] = []


def heap_of_error(err: BaseException, namespace: Mapping[str, Any] | None = None) -> Any:
    """The heap an error happened in: the one that recorded it, else the only (or last) open
    heap of the namespace."""
    from heapviz.heap import Heap

    heaps: list[Any] = []
    for v in list((namespace or {}).values()):
        if isinstance(v, Heap) and not v.closed and all(v is not x for x in heaps):
            heaps.append(v)
    for hp in heaps:
        if any(e is err for e in hp.__dict__.get("_errors", ())):
            return hp
    for ref in gc.get_referrers(err):
        if isinstance(ref, list):
            for owner in gc.get_referrers(ref):
                if isinstance(owner, dict) and owner.get("_errors") is ref:
                    for hp in gc.get_referrers(owner):
                        if isinstance(hp, Heap) and not hp.closed:
                            return hp
    return heaps[-1] if heaps else None


def _on_heap_error(shell: Any, etype: type[BaseException], value: BaseException, tb: Any,
                   tb_offset: Any = None) -> Any:
    """IPython's custom exception handler: the usual traceback, then the heap's picture."""
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    try:
        h = heap_of_error(value, shell.user_ns)
        if h is not None:
            from IPython.display import display

            display(Snapshot(h, error=value))
    except Exception as e:  # the picture must never hide the student's error
        print(f"(heapviz could not draw the heap: {e})")
    return None


def install(shell: Any = None) -> bool:
    """Under IPython: after a HeapError raised in a cell, show its heap (idempotent)."""
    shell = shell or _shell()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    if shell in _installed:
        return True
    from heapviz.errors import HeapError

    current = getattr(shell, "custom_exceptions", ())
    if current and HeapError not in current:
        return False  # someone else's handler: leave it alone
    shell.set_custom_exc((HeapError,), _on_heap_error)
    _installed.append(shell)
    return True


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext heapviz.display`: the same as install(), for a shell that imported heapviz
    before IPython was running."""
    install(ipython)


# --------------------------------------------------------------------------------------------
# Step hooks: several listeners on the binding's single hook
# --------------------------------------------------------------------------------------------
def current_step_hook(h: Any) -> Any:
    """The callable the binding calls after each operation, if any."""
    getter = getattr(h, "_get_step_hook", None)
    if getter is not None:
        return getter()
    # the binding traverses its hook for the GC: the one callable that is not the type
    for o in gc.get_referents(h):
        if callable(o) and not isinstance(o, type):
            return o
    return None


class _Dispatch:
    """What the binding calls after each operation: a foreign hook first (the viewer's step
    mode), then the listeners added with add_step_hook — those only when one is due, so an
    operation pays one cheap call and a clock read.  A listener returns the monotonic time of
    its next wish to be called (None: after every operation)."""

    def __init__(self) -> None:
        self.foreign: Callable[[], Any] | None = None
        self.listeners: list[Callable[[], float | None]] = []
        self.next_at = 0.0
        mono, d = time.monotonic, self

        def hook() -> None:
            if d.foreign is not None:
                d.foreign()
            if mono() >= d.next_at:
                d.fire()

        self.hook = hook

    def fire(self) -> None:
        due = []
        for fn in list(self.listeners):
            t = fn()
            due.append(0.0 if t is None else t)
        self.next_at = min(due, default=float("inf"))


def _dispatch(h: Any) -> _Dispatch:
    d = h.__dict__.get("_display_dispatch")
    if d is None:
        d = h.__dict__["_display_dispatch"] = _Dispatch()
    return d


def _ensure_hook(h: Any) -> None:
    """(Re)install our dispatcher, chaining any hook someone else set meanwhile."""
    if h.closed:
        return
    d = _dispatch(h)
    cur = current_step_hook(h)
    if cur is d.hook:
        return
    d.foreign = cur
    if d.listeners:
        h._set_step_hook(d.hook)


def add_step_hook(h: Any, fn: Callable[[], float | None]) -> None:
    """Call fn after operations of h (when due, see _Dispatch), besides whatever hook is
    already set (which is kept and called first)."""
    d = _dispatch(h)
    d.listeners.append(fn)
    d.next_at = 0.0
    _ensure_hook(h)


def remove_step_hook(h: Any, fn: Callable[[], float | None]) -> None:
    """Stop calling fn; when no listener is left, give the binding back the foreign hook."""
    d = _dispatch(h)
    with contextlib.suppress(ValueError):
        d.listeners.remove(fn)
    if h.closed:
        return
    if not d.listeners and current_step_hook(h) is d.hook:
        h._set_step_hook(d.foreign)
        d.foreign = None


# --------------------------------------------------------------------------------------------
# The live widget
# --------------------------------------------------------------------------------------------
class Watch:
    """A live view under a notebook cell (ipywidgets): follows the heap as later cells run,
    at most WATCH_HZ refreshes a second; back/step buttons and a slider move through the
    history; "live" follows the heap again."""

    def __init__(self, h: Any, width: int = WIDTH, hz: float = WATCH_HZ) -> None:
        try:
            import ipywidgets as w
        except ImportError as e:
            raise RuntimeError("h.watch() needs ipywidgets: pip install ipywidgets "
                               "(or pip install 'heapviz[notebook]')") from e
        self.h, self.width, self.interval = h, width, 1.0 / hz
        self.following = True
        self.pos = 0
        self.refreshes = 0
        self._next = 0.0  # monotonic time before which the hook does not redraw
        self._replay = render.viz().Replay(h._capsule())  # counts steps, incrementally
        self._busy = threading.Lock()
        self._displayed = False
        self.image = w.Image(format="png", layout=w.Layout(max_width="100%"))
        self.back = w.Button(description="◀ back", tooltip="one step back in the history",
                             layout=w.Layout(width="90px"))
        self.step = w.Button(description="step ▶", tooltip="one step forward",
                             layout=w.Layout(width="90px"))
        self.live = w.ToggleButton(value=True, description="live", tooltip="follow the heap",
                                   layout=w.Layout(width="70px"))
        self.slider = w.IntSlider(min=0, max=0, value=0, description="step",
                                  continuous_update=True, layout=w.Layout(width="420px"))
        self.label = w.Label()
        self.back.on_click(lambda _b: self.go(self.pos - 1))
        self.step.on_click(lambda _b: self.go(self.pos + 1))
        self.live.observe(self._on_live, names="value")
        self.slider.observe(self._on_slider, names="value")
        self.widget = w.VBox([w.HBox([self.back, self.step, self.live, self.slider]),
                              self.label, self.image])
        self._hook = self._after_op
        add_step_hook(h, self._hook)
        shell = _shell()
        if shell is not None:
            shell.events.register("post_run_cell", self._after_cell)
        self.refresh(force=True)

    # --- following ---------------------------------------------------------------------
    def _after_op(self) -> float:
        """The step hook's listener: redraw when due; when to be called next."""
        if not self.following:
            return float("inf")
        if time.monotonic() >= self._next:
            self.refresh()
        return self._next

    def _after_cell(self, *_args: Any) -> None:
        if self.h.closed:
            self.stop()
            return
        _ensure_hook(self.h)  # a viewer may have replaced the hook meanwhile
        if self.following:
            self.refresh(force=True)

    def _steps_now(self) -> int:
        if self.h._history()[0] > 0:
            return 0  # truncated: no past to step through
        return int(self._replay.ops)

    def refresh(self, force: bool = False) -> None:
        """Draw the heap now (when following) or the chosen step."""
        if self.h.closed or not self._busy.acquire(blocking=False):
            return
        start = time.monotonic()
        try:
            n = self._steps_now()
            if self.following:
                self.pos = n
                data = render.render_png(self.h, width=self.width, vars=user_vars(self.h))
                text = f"live · step {n}"
            else:
                self.pos = max(0, min(self.pos, n))
                data = render.render_png(self.h, width=self.width, at=self.pos)
                text = f"step {self.pos} / {n} (paused: press live to follow)"
            self.image.value = data
            self.slider.max = n
            if self.slider.value != self.pos:
                self.slider.unobserve(self._on_slider, names="value")
                self.slider.value = self.pos
                self.slider.observe(self._on_slider, names="value")
            self.label.value = text
            self.refreshes += 1
        finally:
            end = time.monotonic()
            # at most `hz` a second, and never more than a third of the script's time
            self._next = end + max(self.interval, 2 * (end - start))
            self._busy.release()

    # --- moving ---------------------------------------------------------------------------
    def go(self, k: int) -> None:
        n = self._steps_now()
        k = max(0, min(k, n))
        self.pos = k
        follow = k >= n
        if follow != self.following:
            self.following = follow
            self.live.unobserve(self._on_live, names="value")
            self.live.value = follow
            self.live.observe(self._on_live, names="value")
        self._wake()
        self.refresh(force=True)

    def _wake(self) -> None:
        """Following again: the step hook must ask this view at the next operation."""
        if self.following and not self.h.closed:
            _dispatch(self.h).next_at = 0.0

    def _on_live(self, change: Mapping[str, Any]) -> None:
        self.following = bool(change["new"])
        if not self.following:
            self.pos = self._steps_now()
        self._wake()
        self.refresh(force=True)

    def _on_slider(self, change: Mapping[str, Any]) -> None:
        self.go(int(change["new"]))

    def stop(self) -> None:
        """Stop following (the widget keeps its last picture)."""
        if not self.h.closed:
            remove_step_hook(self.h, self._hook)
        shell = _shell()
        if shell is not None:
            with contextlib.suppress(ValueError):
                shell.events.unregister("post_run_cell", self._after_cell)
        self.following = False

    def _ipython_display_(self) -> None:
        if not self._displayed:
            from IPython.display import display

            self._displayed = True
            display(self.widget)

    def __repr__(self) -> str:
        state = "live" if self.following else f"at step {self.pos}"
        return f"<heapviz watch {state}: {self.refreshes} refreshes>"


def watch(h: Any, width: int = WIDTH) -> Watch:
    """h.watch(): a live widget under the cell, following the heap as later cells run."""
    w = Watch(h, width=width)
    if _shell() is not None:
        w._ipython_display_()
    return w


install()
