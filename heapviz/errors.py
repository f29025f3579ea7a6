"""The memory errors of the Memory API chapter, explained in valgrind's vocabulary.

The C binding detects an error and calls `_memory_error` (registered as its hook); this
module gathers the facts (which block, where it was allocated and freed, which line did
it), writes the report, records the error as an event for the viewer, and decides from
the heap's `checks=` mode whether to raise it or to report it and let the script go on:

- "strict": raise at the faulting call (the heap stays as it was);
- "report": print the report and go on as C would; a SegmentationFault or a
  HeapCorruption still raises, since the C program dies there;
- "off": only SegmentationFault and HeapCorruption, which keep the process safe.

A report reads like valgrind's (`Invalid write of size 4`, `Address 0x… is 0 bytes after
a block of size 400 alloc'd`, `at <module> (script.py:12)`), followed by one plain
sentence on what went wrong and how C programmers avoid it.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from heapviz import _core
from heapviz.records import Block, Site, block_from_tuple, site_of

if TYPE_CHECKING:
    from heapviz.model import HeapModel as Heap


class HeapError(Exception):
    """Base class of every memory error heapviz detects.

    Attributes: `address` (the faulting address), `access_size` (bytes accessed, 0 for
    free), `heap` (the heap the error happened in; None for NULL and wild pointers, which
    belong to no heap), `block` (the Block involved, if any), `alloc_site` and
    `free_site` (where that block was allocated and freed, when known), `site` (the
    faulting line) and `report` (the full valgrind-style text, also what str(err) gives).
    """

    address: int = 0
    access_size: int = 0
    block: Block | None = None
    alloc_site: Site | None = None
    free_site: Site | None = None
    site: Site | None = None
    report: str = ""

    _heap_ref: weakref.ReferenceType[Any] | None = None

    @property
    def heap(self) -> Heap | None:
        """The heap the error happened in (None for NULL and wild pointers, which belong
        to no heap, or once that heap is gone: an error does not keep a heap alive)."""
        return self._heap_ref() if self._heap_ref is not None else None

    @heap.setter
    def heap(self, h: Heap | None) -> None:
        self._heap_ref = weakref.ref(h) if h is not None else None

    def __str__(self) -> str:
        return self.report or super().__str__()


class SegmentationFault(HeapError):
    """An access outside every mapping: NULL, an uninitialized or wild pointer."""


class BufferOverflow(HeapError):
    """An access past the end (or before the start) of its block."""


class UninitializedRead(HeapError):
    """A read of bytes never written since they were allocated."""


class UseAfterFree(HeapError):
    """An access through a pointer whose block has been freed."""


class DoubleFree(HeapError):
    """free() of a block that is already free."""


class InvalidFree(HeapError):
    """free() of a pointer malloc never returned: interior, stack, or wild."""


class UseAfterReturn(HeapError):
    """An access to a stack object after its frame returned."""


class OverlappingCopy(HeapError):
    """memcpy() with source and destination overlapping."""


class FishyValue(HeapError, ValueError):
    """A size argument that is negative or absurd, or a calloc() whose size overflows."""


class HeapCorruption(HeapError):
    """The allocator's own integrity checks found damaged metadata."""


_CLASSES: dict[int, type[HeapError]] = {
    _core.ERR_SEGV: SegmentationFault,
    _core.ERR_OVERFLOW: BufferOverflow,
    _core.ERR_UNINIT: UninitializedRead,
    _core.ERR_USE_AFTER_FREE: UseAfterFree,
    _core.ERR_DOUBLE_FREE: DoubleFree,
    _core.ERR_INVALID_FREE: InvalidFree,
    _core.ERR_USE_AFTER_RETURN: UseAfterReturn,
    _core.ERR_OVERLAP: OverlappingCopy,
    _core.ERR_FISHY: FishyValue,
    _core.ERR_CORRUPTION: HeapCorruption,
}

# heapviz's explanation of each kind of error, one paragraph for a student: written once,
# in the core (csrc/core/wording.c), and printed by the C runtime too.
_ADVICE: dict[str, str] = _core._advice()

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))
# Frames from the standard library or installed packages end a backtrace: they are the
# machinery that runs the student's code (runpy, a test runner), not the student's code.
_LIB_DIRS = tuple(sorted({os.path.abspath(p) + os.sep for p in (
    sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"],
    sysconfig.get_paths()["platlib"])}))
_BYTEWISE = [0]  # > 0 while a string helper copies "byte by byte"


@contextmanager
def bytewise() -> Iterator[None]:
    """While active, an access error is reported as valgrind's byte-by-byte string
    functions report it: an access of size 1 at the first bad byte."""
    _BYTEWISE[0] += 1
    try:
        yield
    finally:
        _BYTEWISE[0] -= 1


_RECORDED: list[list[str]] = []  # reports a recording's replay words its errors with


@contextmanager
def recorded_reports(reports: list[str]) -> Iterator[None]:
    """While a recording's replay re-runs a call that was an error (a refused free), the
    errors it makes take the recorded reports, in order: the stack above the recorded line
    was the script's, which the replay cannot see."""
    _RECORDED.append(list(reports))
    try:
        yield
    finally:
        _RECORDED.pop()


# --- gathering facts -----------------------------------------------------------------


Ev = tuple[int, int, int, int, int, int, int, int, int]  # seq op kind flags site addr size a b
_ALLOCS = (_core.EV_MALLOC, _core.EV_CALLOC, _core.EV_REALLOC)
_EV_FRAME_POP = _core.EVENT_KINDS.index("frame_pop")
_EV_STACK_ALLOC = _core.EVENT_KINDS.index("stack_alloc")


def _backwards(heap: Any, stop: int | None = None) -> Iterator[Ev]:
    """The recorded history, newest first (from `stop`, exclusive)."""
    first, count = heap._history()
    hi = count if stop is None else min(stop, count)
    while hi > first:
        lo = max(first, hi - 4096)
        yield from reversed(heap._events(lo, hi))
        hi = lo


def _forwards(heap: Any, start: int) -> Iterator[Ev]:
    first, count = heap._history()
    for lo in range(max(start, first), count, 4096):
        yield from heap._events(lo, min(count, lo + 4096))


def _find(events: Iterator[Ev], pred: Callable[[Ev], bool]) -> Ev | None:
    return next((ev for ev in events if pred(ev)), None)


@dataclass
class _Origin:
    """Where an allocation came from and, if freed, where it went."""

    payload: int
    requested: int
    alloc_site: Site | None
    free_site: Site | None
    freed: bool
    by_realloc: bool


def _find_origin(heap: Any, seq: int) -> _Origin | None:
    """Search the history for allocation `seq` (an operation number) and its free."""
    alloc = _find(_backwards(heap), lambda ev: ev[1] == seq and ev[2] in _ALLOCS and
                  not ev[3] & _core.EVF_FAILED and ev[5] != 0)
    if alloc is None:
        return None
    payload = alloc[5]
    free_site: Site | None = None
    freed = by_realloc = False
    for ev in _forwards(heap, alloc[0] + 1):
        if ev[2] == _core.EV_FREE and ev[5] == payload:
            free_site, freed = site_of(heap, ev[4]), True
            # a FREE step inside a realloc: the realloc moved (or freed) the block
            by_realloc = bool(ev[3] & _core.EVF_SUB)
            break
    return _Origin(payload, alloc[6], site_of(heap, alloc[4]), free_site, freed, by_realloc)


def _block(heap: Any, addr: int, containing: bool) -> Block | None:
    if heap is None or heap.closed:
        return None
    t = heap._block(addr, containing)
    return block_from_tuple(heap, t) if t else None


def _where(addr: int, lo: int, size: int) -> str:
    """valgrind's offset wording for an address relative to [lo, lo+size)."""
    if addr < lo:
        return f"is {lo - addr} bytes before a block of size {size}"
    if addr >= lo + size:
        return f"is {addr - (lo + size)} bytes after a block of size {size}"
    return f"is {addr - lo} bytes inside a block of size {size}"


def _at(site: Site | None, word: str = "at") -> str:
    if site is None:
        return f"   {word} (unknown)"
    fn = site.function or "<module>"
    return f"   {word} {fn} ({site.short})"


def _student_frames() -> list[Site]:
    """The student's Python stack, innermost first, as valgrind prints a backtrace:
    frames of the heapviz package are skipped; the walk stops at a module's top level."""
    out: list[Site] = []
    f = sys._getframe(1)
    while f is not None and len(out) < 12:
        code = f.f_code
        path = os.path.abspath(code.co_filename)
        if out and (path.startswith(_LIB_DIRS) or code.co_filename.startswith("<frozen")):
            break
        if not path.startswith(_PKG_DIR + os.sep):
            out.append(Site(code.co_filename, f.f_lineno, code.co_qualname))
            if code.co_name == "<module>":
                break
        f = f.f_back  # type: ignore[assignment]
    return out


def _stack_text(site: Site | None) -> list[str]:
    """`at` the faulting line, then `by` its callers (the student's own frames)."""
    frames = _student_frames()
    if site is not None and frames and (frames[0].file, frames[0].line) != (site.file,
                                                                            site.line):
        frames = [site]
    if not frames:
        return [_at(site)]
    return [_at(frames[0])] + [_at(s, "by") for s in frames[1:]]


# --- writing reports -----------------------------------------------------------------


class _Report:
    """The facts of one error and its text."""

    def __init__(self, heap: Any, kind: int, addr: int, size: int, write: bool,
                 pointer: Any, extra: Any, span: int | None = None) -> None:
        self.heap, self.kind, self.addr, self.size = heap, kind, addr, size
        self.span = size if span is None else span  # bytes the whole access covers
        self.write, self.pointer, self.extra = write, pointer, extra
        self.cls = _CLASSES.get(kind, HeapError)
        self.site: Site | None = None
        if heap is not None and not heap.closed:
            self.site = site_of(heap, heap._site())
        if self.site is None:
            frames = _student_frames()
            self.site = frames[0] if frames else None
        self.block: Block | None = None
        self.alloc_site: Site | None = None
        self.free_site: Site | None = None
        self.advice = ""
        self.notes: list[str] = []

    @property
    def live(self) -> bool:
        return self.heap is not None and not self.heap.closed

    def access(self) -> str:
        return f"Invalid {'write' if self.write else 'read'} of size {self.size}"

    def stack(self) -> list[str]:
        return _stack_text(self.site)

    # --- where is the address? ------------------------------------------------------

    def describe(self) -> list[str]:
        """' Address 0x… is N bytes after a block of size S alloc'd' and its sites."""
        p, heap = self.pointer, self.heap
        prov = p._provenance if p is not None else ("none", 0, 0, 0)
        if not self.live:
            return [f" Address 0x{self.addr:x} is not stack'd, malloc'd or (recently) free'd"]
        if prov[0] == "stack":
            return self._stack_words()
        if prov[0] == "block":
            blk = _block(heap, prov[1], False)
            if blk is not None and blk.seq == prov[3] and blk.allocated:
                return self._alloc_words(blk)
            origin = _find_origin(heap, prov[3])
            if origin is not None:
                return self._origin_words(origin)
        blk = _block(heap, self.addr, True)
        if blk is None:
            return [f" Address 0x{self.addr:x} is not stack'd, malloc'd or (recently) free'd"]
        if blk.state == "stack":
            return self._stack_words()
        if blk.state == "mapping":
            self.block = blk
            return [f" Address 0x{self.addr:x} is in a rw- anonymous segment "
                    "(memory from mmap(), not a block malloc() returned)"]
        if blk.state == "sbrk":
            self.block = blk
            return [f" Address 0x{self.addr:x} is in the brk data segment "
                    "(memory from sbrk(), not a block malloc() returned)"]
        if blk.state == "free":
            self.block = blk
            origin = self._origin_of_free(blk)
            if origin is not None:
                return self._origin_words(origin)
            if blk.free_site is not None:
                self.free_site = blk.free_site
                return [f" Address 0x{self.addr:x} "
                        f"{_where(self.addr, blk.payload, blk.payload_size)} free'd",
                        _at(blk.free_site)]
            return [f" Address 0x{self.addr:x} is {self.addr - blk.address} bytes inside an "
                    f"unallocated block of size {blk.size} (free memory no malloc() "
                    "returned yet)"]
        return self._alloc_words(blk)

    def _alloc_words(self, blk: Block) -> list[str]:
        self.block, self.alloc_site = blk, blk.site
        return [f" Address 0x{self.addr:x} {_where(self.addr, blk.payload, blk.requested)} "
                "alloc'd", _at(blk.site)]

    def _origin_words(self, origin: _Origin) -> list[str]:
        self.alloc_site, self.free_site = origin.alloc_site, origin.free_site
        if self.block is None:
            self.block = _block(self.heap, origin.payload, True)
        words = _where(self.addr, origin.payload, origin.requested)
        if not origin.freed:
            return [f" Address 0x{self.addr:x} {words} alloc'd", _at(origin.alloc_site)]
        lines = [f" Address 0x{self.addr:x} {words} free'd", _at(origin.free_site)]
        if origin.by_realloc:
            lines[-1] += "  (by realloc(), which moved the block)"
            self.advice = self.advice or "use-after-realloc"
        lines += [" Block was alloc'd at", _at(origin.alloc_site)]
        now = _block(self.heap, self.addr, True)
        if now is not None and now.allocated and now.site is not None:
            lines.append(f" The memory has been reused since: it now belongs to a block of "
                         f"size {now.requested} alloc'd at {now.site.short}")
        return lines

    def _origin_of_free(self, blk: Block) -> _Origin | None:
        """The freed allocation whose payload held this address (an int pointer)."""
        ev = _find(_backwards(self.heap), lambda e: e[2] == _core.EV_FREE and
                   e[5] <= self.addr < e[5] + max(e[6], 1) and blk.address <= e[5] < blk.end)
        if ev is None:
            return None
        alloc = _find(_backwards(self.heap, ev[0]), lambda e: e[2] in _ALLOCS and
                      e[5] == ev[5] and not e[3] & _core.EVF_FAILED)
        return _Origin(ev[5], ev[6], site_of(self.heap, alloc[4]) if alloc else None,
                       site_of(self.heap, ev[4]), True, bool(ev[3] & _core.EVF_SUB))

    def _stack_words(self) -> list[str]:
        frames = self.heap._frames() if self.live else []
        p = self.pointer
        start = p._provenance[2] if p is not None and p._provenance[0] == "stack" else None
        for name, lo, hi in reversed(frames):
            if lo <= (start if start is not None else self.addr) < hi:
                blk = _block(self.heap, start if start is not None else self.addr, True)
                lines = [f" Address 0x{self.addr:x} is on the stack, in the frame of {name}()"]
                if blk is not None and blk.state == "stack":
                    self.block, self.alloc_site = blk, blk.site
                if isinstance(self.extra, tuple) and start is not None:
                    # an overflow of a local: its exact bounds come from the binding
                    olo, ohi, _ = self.extra
                    words = _where(self.addr, olo, ohi - olo).replace("a block",
                                                                      "a stack object")
                    lines.append(f" It {words}, made at")
                    lines.append(_at(self.alloc_site))
                return lines
        alloc, ret = self._dead_frame()
        lines = [f" Address 0x{self.addr:x} is on the stack, in a frame that has returned"]
        if alloc is not None:
            lines += [" The stack object was allocated at", _at(alloc)]
            self.alloc_site = alloc
        if ret is not None:
            lines += [" and died when its frame ended at", _at(ret)]
            self.free_site = ret
        return lines

    def _dead_frame(self) -> tuple[Site | None, Site | None]:
        """Where the dead stack object at addr was made, and where its frame ended."""
        if not self.live:
            return None, None
        alloc = _find(_backwards(self.heap), lambda e: e[2] == _EV_STACK_ALLOC and
                      e[5] <= self.addr < e[5] + max(e[6], 1))
        if alloc is None:
            return None, None
        pop = _find(_forwards(self.heap, alloc[0] + 1),
                    lambda e: e[2] == _EV_FRAME_POP and e[5] <= alloc[5] < e[5] + e[6])
        return site_of(self.heap, alloc[4]), site_of(self.heap, pop[4]) if pop else None

    # --- the texts --------------------------------------------------------------------

    def text(self) -> list[str]:
        k = self.kind
        if k == _core.ERR_SEGV:
            return self._segv()
        if k == _core.ERR_OVERFLOW:
            self.advice = "overflow"
            return [self.access(), *self.stack(), *self.describe(), *self._landing()]
        if k == _core.ERR_USE_AFTER_FREE:
            lines = [self.access(), *self.stack(), *self.describe()]
            self.advice = self.advice or "use-after-free"
            return lines
        if k == _core.ERR_USE_AFTER_RETURN:
            self.advice = "use-after-return"
            return [self.access(), *self.stack(), *self.describe()]
        if k == _core.ERR_UNINIT:
            return self._uninit()
        if k in (_core.ERR_DOUBLE_FREE, _core.ERR_INVALID_FREE):
            lines = ["Invalid free() / delete / delete[] / realloc()", *self.stack(),
                     *self.describe()]
            if k == _core.ERR_DOUBLE_FREE:
                self.advice = "double-free"
            elif any("on the stack" in line for line in lines):
                self.advice = "stack-free"
            else:
                self.advice = "invalid-free"
            return lines
        if k == _core.ERR_OVERLAP:
            self.advice = "overlap"
            if isinstance(self.extra, tuple):  # a string function: (name, src)
                fn, src = self.extra
                self.advice = "overlap-string"
                return [f"Source and destination overlap in {fn}(0x{self.addr:x}, "
                        f"0x{src:x})", *self.stack()]
            src = int(self.extra)
            return [f"Source and destination overlap in memcpy(0x{self.addr:x}, 0x{src:x}, "
                    f"{self.size})", *self.stack()]
        if k == _core.ERR_FISHY:
            return self._fishy()
        if k == _core.ERR_CORRUPTION:
            return self._corruption()
        return [f"memory error {k} at 0x{self.addr:x}", *self.stack()]

    def _segv(self) -> list[str]:
        p = self.pointer
        lines: list[str] = []
        if p is not None and int(p) == 0 and repr(p).startswith("Pointer()"):
            self.advice = "uninit-pointer"
            lines += ["Use of uninitialised value of size 8", *self.stack(),
                      " (the pointer was made by heapviz.Pointer() and never assigned)"]
        elif self.addr == 0:
            self.advice = "null"
        elif p is not None and p._provenance[0] == "none":
            self.advice = "wild"
        else:
            self.advice = "segv"
        what = "write" if self.write else "read"
        lines += [f"Invalid {what} of size {self.size}", *self.stack()]
        if p is not None and p._provenance[0] in ("block", "stack") and self.live:
            lines += self.describe()
        else:
            lines.append(f" Address 0x{self.addr:x} is not stack'd, malloc'd or (recently) "
                         "free'd")
        lines += ["", "Process terminating with default action of signal 11 (SIGSEGV)",
                  f" Access not within mapped region at address 0x{self.addr:x}",
                  _at(self.site)]
        return lines

    def _landing(self) -> list[str]:
        """Report mode: what the write that goes ahead will overwrite."""
        if not (self.write and self.live and self.heap._checks == _core.CHECKS_REPORT):
            return []
        if not (isinstance(self.extra, tuple) and len(self.extra) == 3):
            return []
        lo, hi, start = self.extra  # the block's bounds, the access's start
        end = start + self.span
        states = b""
        for a, n in ((start, min(end, lo) - start), (max(start, hi), end - max(start, hi))):
            if n > 0:  # the parts of the access outside the block
                states += self.heap._shadow(a, n) or b""
        counts = {state: states.count(state) for state in (1, 2, 3, 4, 5)}

        def nbytes(n: int) -> str:
            return f"{n} byte{'s' if n != 1 else ''}"

        parts = []
        if counts[1]:
            parts.append(f"{nbytes(counts[1])} of allocator metadata (a header, footer or "
                         "free-list link)")
        if counts[2]:
            parts.append(f"{nbytes(counts[2])} of a free block")
        if counts[3] + counts[4]:
            parts.append(f"{nbytes(counts[3] + counts[4])} of another block's data")
        if not parts:
            return [" (checks=\"report\": the write goes ahead, as in C, into padding)"]
        return [" (checks=\"report\": the write goes ahead, as in C, and overwrites "
                + " and ".join(parts) + ")"]

    def _uninit(self) -> list[str]:
        lines = [f"Use of uninitialised value of size {self.size}", *self.stack()]
        where = self.describe()
        lines.append(where[0])
        if self.block is not None and self.block.state == "stack":
            self.advice = "uninit-stack"
            self.alloc_site = self.block.site
            return [*lines, " Uninitialised value was created by a stack allocation",
                    _at(self.block.site)]
        origin, by_realloc = self._uninit_origin()
        self.advice = "uninit-realloc" if by_realloc else "uninit"
        self.alloc_site = origin if origin is not None else self.alloc_site
        made = _at(origin if origin is not None else self.alloc_site)
        return [*lines, " Uninitialised value was created by a heap allocation",
                made + ("  (by realloc(), which grew the block)" if by_realloc else "")]

    def _uninit_origin(self) -> tuple[Site | None, bool]:
        """The malloc/realloc that made the byte at addr: a realloc that grew the block
        when the byte lies beyond the old size."""
        blk = self.block
        if blk is None or not self.live:
            return None, False
        payload = blk.payload
        off = self.addr - payload
        for ev in _backwards(self.heap):
            if ev[2] not in _ALLOCS or ev[3] & _core.EVF_FAILED or ev[5] != payload:
                continue
            if ev[2] == _core.EV_REALLOC and ev[7] != 0:
                if off >= ev[8]:  # beyond the old requested size: new garbage
                    return site_of(self.heap, ev[4]), True
                payload, off = ev[7], off  # the bytes came from the old block
                continue
            return site_of(self.heap, ev[4]), False
        return None, False

    def _fishy(self) -> list[str]:
        extra = self.extra
        if isinstance(extra, tuple) and len(extra) == 3:  # calloc(nmemb, size) overflow
            fn, nmemb, size = extra
            self.advice = "calloc-overflow"
            return [f"Argument 'nmemb' * 'size' of function {fn} overflows: "
                    f"{nmemb} * {size} = {nmemb * size} does not fit in a size_t "
                    f"(at most {(1 << 64) - 1})", *self.stack(),
                    f" {fn}() returns NULL"]
        fn, arg = extra if isinstance(extra, tuple) else (str(extra), "size")
        value = self.size - (1 << 64) if self.size >= 1 << 63 else self.size
        self.advice = "fishy"
        return [f"Argument '{arg}' of function {fn} has a fishy (possibly negative) value: "
                f"{value}", *self.stack()]

    def _corruption(self) -> list[str]:
        fn = str(self.extra) if self.extra is not None else "malloc"
        self.advice = "corruption"
        problems = self.heap.check() if self.live else []
        msg = self._glibc_words(fn, problems)
        lines = [msg, *self.stack(), "",
                 "Process terminating with default action of signal 6 (SIGABRT)",
                 f" (glibc's malloc aborts here with \"{msg}\")"]
        if problems:
            lines.append(" The allocator's check finds:")
            lines += [f"   {p}" for p in problems[:6]]
        earlier = [e for e in (self.heap.error_log.errors if self.live else [])
                   if not isinstance(e, HeapCorruption | FishyValue)]
        if earlier and earlier[-1].site is not None:
            first = earlier[0]
            lines.append(f" Most likely cause: the {type(first).__name__} reported at "
                         f"{first.site.short if first.site else '?'}")
        return lines

    def _glibc_words(self, fn: str, problems: list[str]) -> str:
        """The message glibc would abort with for this damage (the core's words: the C
        runtime says the same)."""
        del problems  # the core runs the check itself
        if not self.live:
            return f"{fn}(): memory corruption"
        pointer = int(self.pointer) if self.pointer is not None else None
        return _core._glibc_words(self.heap, fn, pointer)

    def build(self) -> HeapError:
        body = "\n".join(self.text())
        advice = _ADVICE.get(self.advice, "")
        report = f"{body}\n\n{advice}".rstrip()
        err = self.cls(report)
        err.heap = self.heap
        err.address, err.access_size, err.block = self.addr, self.size, self.block
        err.alloc_site, err.free_site, err.site, err.report = (
            self.alloc_site, self.free_site, self.site, report)
        return err


def _rejudge_damaged(heap: Any, kind: int, addr: int, size: int, pointer: Any) -> int:
    """The binding finds a block through its header; once an overflow has overwritten
    that header, the block no longer looks live and every access through its pointers
    looks like a use after free.  The history knows better: if the allocation was never
    freed, judge the access by its bounds (0: it is fine)."""
    prov = pointer._provenance
    if prov[0] != "block" or heap.closed or not heap.check():
        return kind
    origin = _find_origin(heap, prov[3])
    if origin is None or origin.freed:
        return kind
    lo, hi = origin.payload, origin.payload + origin.requested
    return 0 if lo <= addr and addr + size <= hi else _core.ERR_OVERFLOW


def _print_report(err: HeapError) -> None:
    text = "\n".join("==heapviz== " + line if line else "==heapviz==" for line in
                     err.report.splitlines())
    print(text, file=sys.stderr)


class ErrorLog:
    """What a heap keeps of its errors (Heap.error_log): every error, raised or only
    reported, and the report-mode contexts already shown (valgrind shows each once)."""

    def __init__(self) -> None:
        self.errors: list[HeapError] = []
        self._contexts: dict[Any, int] = {}

    def first_time(self, context: Any) -> bool:
        """Count an error context; whether it is the first of its kind."""
        self._contexts[context] = self._contexts.get(context, 0) + 1
        return self._contexts[context] == 1


def _memory_error(heap: Heap | None, kind: int, addr: int, size: int, write: int,
                  pointer: Any, extra: Any) -> HeapError | None:
    """The binding's hook: build, record, and raise (returned) or report (None)."""
    mode = heap._checks if heap is not None and not heap.closed else _core.CHECKS_STRICT
    fatal = kind in (_core.ERR_SEGV, _core.ERR_CORRUPTION)
    if mode == _core.CHECKS_OFF and not fatal:
        return None  # "off": C goes on, unchecked
    if mode == _core.CHECKS_REPORT and not fatal and heap is not None:
        # valgrind shows each error context once (a strcpy running 20 bytes past the
        # end is one error, not 20): the same kind, line and pointer is counted only
        prov = pointer._provenance if pointer is not None else None
        context = (kind, heap._site(), bool(write), size, prov)
        if not heap.error_log.first_time(context):
            return None
    if kind == _core.ERR_USE_AFTER_FREE and pointer is not None and heap is not None:
        kind = _rejudge_damaged(heap, kind, addr, size, pointer)
        if kind == 0:
            return None  # a fine access to a live block whose header was overwritten
    span = size
    if _BYTEWISE[0] and kind in (_core.ERR_OVERFLOW, _core.ERR_USE_AFTER_FREE,
                                 _core.ERR_USE_AFTER_RETURN, _core.ERR_SEGV,
                                 _core.ERR_UNINIT):
        size = 1
    err = _Report(heap, kind, addr, size, bool(write), pointer, extra, span).build()
    if _RECORDED and _RECORDED[-1]:
        err.report = _RECORDED[-1].pop(0)
        err.args = (err.report,)
    if heap is not None and not heap.closed:
        site_id = heap._site()
        report_id = heap._intern(err.report, 0, "report")
        heap._record(_core.EV_ERROR, addr, size, kind, report_id, site_id, 0)
        heap.error_log.errors.append(err)
    calloc_overflow = kind == _core.ERR_FISHY and isinstance(extra, tuple) and len(extra) == 3
    if fatal or (mode == _core.CHECKS_STRICT and not calloc_overflow):
        return err
    _print_report(err)
    return None
