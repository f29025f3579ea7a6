"""The memory errors of the Memory API chapter, explained in valgrind's vocabulary.

The C binding detects an error and calls `_memory_error` (registered as its hook); this
module gathers the facts (which block, where it was allocated and freed, which line did
it), writes the report, records the error as an event for the viewer, and decides from
the heap's `checks=` mode whether to raise it or to report it and let the script go on.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from heapviz import _core
from heapviz.records import Block, Site

if TYPE_CHECKING:
    from heapviz.heap import Heap


class HeapError(Exception):
    """Base class of every memory error heapviz detects.

    Attributes: address, access_size, block, alloc_site, free_site, site, report.
    """

    address: int = 0
    access_size: int = 0
    block: Block | None = None
    alloc_site: Site | None = None
    free_site: Site | None = None
    site: Site | None = None
    report: str = ""

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
    """A size argument that is negative or absurd."""


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

_ADVICE: dict[type[HeapError], str] = {
    SegmentationFault: (
        "The pointer does not point at memory the program owns: it is NULL, was never "
        "set, or holds a made-up address. Allocate first (p = malloc(n)) and check the "
        "result against NULL before using it."
    ),
    BufferOverflow: (
        "The access falls outside the block it belongs to: the block is smaller than the "
        "code assumes. Allocate enough (count * sizeof(type), strlen(s) + 1 for strings) "
        "and keep indexes within 0 .. count-1."
    ),
    UninitializedRead: (
        "malloc() does not clear memory: these bytes hold whatever was there before. "
        "Write them first, or allocate with calloc() to get zeroes."
    ),
    UseAfterFree: (
        "The block was freed, so the pointer dangles: the memory may already belong to "
        "someone else. Free a block only when nothing uses it any more, and set the "
        "pointer to NULL after free()."
    ),
    DoubleFree: (
        "The block was already freed. Freeing twice corrupts the allocator's free list; "
        "set the pointer to NULL after free() so a second free(NULL) does nothing."
    ),
    InvalidFree: (
        "free() takes exactly a pointer that malloc(), calloc() or realloc() returned — "
        "not one into the middle of a block, not stack memory, not a made-up address."
    ),
    UseAfterReturn: (
        "The object lived in a stack frame that has returned; its memory is reused by the "
        "next call. Return heap memory (malloc) or copy the value out instead."
    ),
    OverlappingCopy: (
        "memcpy() requires source and destination not to overlap; the result is "
        "undefined. Use memmove() when the regions may overlap."
    ),
    FishyValue: (
        "The size is negative (or absurdly large): in C it would turn into a huge "
        "size_t. Check the arithmetic that produced it."
    ),
    HeapCorruption: (
        "The allocator's bookkeeping (a header, footer or free-list link) has been "
        "overwritten, usually by an earlier write past the end of a block or by a double "
        "free. Find the first error reported above."
    ),
}


# --- gathering facts -----------------------------------------------------------------


def site_of(heap: Any, site_id: int) -> Site | None:
    t = heap._site_info(site_id) if site_id else None
    return Site(*t) if t else None


@dataclass
class _Origin:
    """Where an allocation came from and, if freed, where it went."""

    payload: int
    requested: int
    alloc_site: Site | None
    free_site: Site | None
    freed: bool


def _find_origin(heap: Any, seq: int, payload: int) -> _Origin | None:
    """Search the history for allocation `seq` (an op number) and its free."""
    first, count = heap._history()
    alloc: tuple[int, ...] | None = None
    stop = count
    chunk = 4096
    while stop > first and alloc is None:
        lo = max(first, stop - chunk)
        for ev in reversed(heap._events(lo, stop)):
            if ev[1] == seq and ev[2] in (_core.EV_MALLOC, _core.EV_CALLOC, _core.EV_REALLOC):
                alloc = ev
                break
        stop = lo
    if alloc is None:
        return None
    payload = alloc[5]
    free_site: Site | None = None
    freed = False
    for ev in heap._events(alloc[0] + 1, count):
        if ev[2] == _core.EV_FREE and ev[5] == payload:
            free_site, freed = site_of(heap, ev[4]), True
            break
        if ev[2] == _core.EV_REALLOC and ev[7] == payload and ev[5] != payload:
            free_site, freed = site_of(heap, ev[4]), True
            break
    return _Origin(payload, alloc[6], site_of(heap, alloc[4]), free_site, freed)


def _block(heap: Any, addr: int, containing: bool) -> Block | None:
    from heapviz.heap import block_from_tuple

    t = heap._block(addr, containing)
    return block_from_tuple(heap, t) if t else None


def _where(addr: int, lo: int, size: int) -> str:
    """valgrind's offset wording for an address relative to [lo, lo+size)."""
    if addr < lo:
        return f"is {lo - addr} bytes before a block of size {size}"
    if addr >= lo + size:
        return f"is {addr - (lo + size)} bytes after a block of size {size}"
    return f"is {addr - lo} bytes inside a block of size {size}"


def _at(site: Site | None) -> str:
    if site is None:
        return "   at (unknown)"
    fn = site.function or "<module>"
    return f"   at {fn} ({site.short})"


# --- writing reports -----------------------------------------------------------------


class _Report:
    """The facts of one error and its text."""

    def __init__(self, heap: Any, kind: int, addr: int, size: int, write: bool,
                 pointer: Any, extra: Any) -> None:
        self.heap, self.kind, self.addr, self.size = heap, kind, addr, size
        self.write, self.pointer, self.extra = write, pointer, extra
        self.cls = _CLASSES.get(kind, HeapError)
        self.site = site_of(heap, heap._site()) if heap is not None else None
        self.block: Block | None = None
        self.alloc_site: Site | None = None
        self.free_site: Site | None = None
        self.lines: list[str] = []

    def access(self) -> str:
        return f"Invalid {'write' if self.write else 'read'} of size {self.size}"

    def describe_pointer_block(self) -> str:
        """' Address 0x… is N bytes after a block of size S alloc'd' and its sites."""
        p, heap = self.pointer, self.heap
        prov = p._provenance if p is not None else ("none", 0, 0, 0)
        origin = None
        if prov[0] == "block":
            self.block = _block(heap, prov[1], False)
            live = self.block is not None and self.block.seq == prov[3] and self.block.allocated
            if live:
                assert self.block is not None
                self.alloc_site = self.block.site
                return self._alloc_words(self.block.payload, self.block.requested)
            origin = _find_origin(heap, prov[3], prov[2])
        elif prov[0] == "stack":
            return self._stack_words()
        if origin is None and heap is not None:
            blk = _block(heap, self.addr, True)
            if blk is None:
                return f" Address 0x{self.addr:x} is not stack'd, malloc'd or (recently) free'd"
            self.block = blk
            if blk.state == "free":
                return (f" Address 0x{self.addr:x} {_where(self.addr, blk.payload, blk.payload_size)}"
                        " free'd" + self._free_lines(blk.free_site, None))
            if blk.state == "stack":
                return self._stack_words()
            self.alloc_site = blk.site
            return self._alloc_words(blk.payload, blk.requested)
        assert origin is not None
        self.alloc_site, self.free_site = origin.alloc_site, origin.free_site
        words = _where(self.addr, origin.payload, origin.requested)
        if origin.freed:
            return f" Address 0x{self.addr:x} {words} free'd" + self._free_lines(
                origin.free_site, origin.alloc_site)
        return f" Address 0x{self.addr:x} {words} alloc'd\n{_at(origin.alloc_site)}"

    def _alloc_words(self, payload: int, requested: int) -> str:
        return (f" Address 0x{self.addr:x} {_where(self.addr, payload, requested)} alloc'd\n"
                f"{_at(self.alloc_site)}")

    def _free_lines(self, free_site: Site | None, alloc_site: Site | None) -> str:
        self.free_site = free_site
        text = f"\n{_at(free_site)}"
        if alloc_site is not None:
            text += f"\n Block was alloc'd at\n{_at(alloc_site)}"
        return text

    def _stack_words(self) -> str:
        frames = self.heap._frames() if self.heap is not None else []
        for name, lo, hi in frames:
            if lo <= self.addr < hi:
                return f" Address 0x{self.addr:x} is on the stack, in the frame of {name}()"
        return (f" Address 0x{self.addr:x} is on the stack, in a frame that has returned "
                "(its memory is reused by the next call)")

    def text(self) -> str:
        k = self.kind
        if k == _core.ERR_SEGV:
            what = "Invalid write" if self.write else "Invalid read"
            body = [f"{what} of size {self.size}", _at(self.site),
                    f" Address 0x{self.addr:x} is not stack'd, malloc'd or (recently) free'd",
                    "", "Process terminating with default action of signal 11 (SIGSEGV)",
                    f" Access not within mapped region at address 0x{self.addr:x}"]
            if self.pointer is not None and getattr(self.pointer, "address", 1) == 0:
                body.append(" (a NULL pointer: nothing was allocated, or malloc failed)")
            return "\n".join(body)
        if k in (_core.ERR_OVERFLOW, _core.ERR_USE_AFTER_FREE, _core.ERR_USE_AFTER_RETURN):
            return "\n".join([self.access(), _at(self.site), self.describe_pointer_block()])
        if k == _core.ERR_UNINIT:
            desc = self.describe_pointer_block()
            origin = _at(self.alloc_site)
            return "\n".join([f"Use of uninitialised value of size {self.size}", _at(self.site),
                              " Uninitialised value was created by a heap allocation",
                              origin, desc])
        if k in (_core.ERR_DOUBLE_FREE, _core.ERR_INVALID_FREE):
            return "\n".join(["Invalid free() / delete / delete[] / realloc()", _at(self.site),
                              self.describe_pointer_block()])
        if k == _core.ERR_OVERLAP:
            src = int(self.extra)
            return "\n".join([
                f"Source and destination overlap in memcpy(0x{self.addr:x}, 0x{src:x}, "
                f"{self.size})", _at(self.site)])
        if k == _core.ERR_FISHY:
            value = self.size - (1 << 64) if self.size >= 1 << 63 else self.size
            return "\n".join([
                f"Argument 'size' of function {self.extra} has a fishy (possibly negative) "
                f"value: {value}", _at(self.site)])
        if k == _core.ERR_CORRUPTION:
            problems = self.heap.check() if self.heap is not None else []
            lines = [f"{self.extra}(): heap corruption detected (as glibc aborts with "
                     "\"free(): invalid next size\")", _at(self.site)]
            lines += [f"   {p}" for p in problems[:5]]
            return "\n".join(lines)
        return f"memory error {k} at 0x{self.addr:x}"

    def build(self) -> HeapError:
        body = self.text()
        report = f"{body}\n\n{_ADVICE.get(self.cls, '')}".rstrip()
        err = self.cls(report)
        err.address, err.access_size, err.block = self.addr, self.size, self.block
        err.alloc_site, err.free_site, err.site, err.report = (
            self.alloc_site, self.free_site, self.site, report)
        return err


def _memory_error(heap: Heap | None, kind: int, addr: int, size: int, write: int,
                  pointer: Any, extra: Any) -> HeapError | None:
    """The binding's hook: build, record, and raise (strict) or report (report mode)."""
    rep = _Report(heap, kind, addr, size, bool(write), pointer, extra)
    err = rep.build()
    if heap is None or heap.closed:
        return err
    site_id = heap._site()
    report_id = heap._intern(err.report, 0, "report")
    block_addr = err.block.address if err.block is not None else 0
    heap._record(_core.EV_ERROR, addr, size, kind, report_id, site_id, 0)
    errors = heap.__dict__.setdefault("_errors", [])
    errors.append(err)
    del block_addr
    if heap._checks == _core.CHECKS_STRICT or kind in (_core.ERR_SEGV, _core.ERR_CORRUPTION):
        return err
    if kind == _core.ERR_FISHY and heap._checks != _core.CHECKS_REPORT:
        return err
    print("\n".join("==heapviz== " + line for line in err.report.splitlines()),
          file=sys.stderr)
    return None
