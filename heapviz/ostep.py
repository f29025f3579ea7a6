"""OSTEP's free-space simulator (malloc.py): its options and output, plus --explain and pictures.

`python -m heapviz ostep [options]` prints exactly what `vm-freespace/malloc.py` from the OSTEP
homework prints for the same options, with and without `-c`, quirks included:

* the list is not re-sorted after a split, so SIZESORT lists drift out of order;
* `-C` merges an entry only into the entry before it *in the list* (one pass), so in a
  size-sorted list blocks that touch in memory may stay apart;
* random mode prints a block's address plus the header size (`-1 + H` for a failure), `-A`
  mode the block address itself;
* `-A` skips a free whose index is not below the number of *successful* allocations so far,
  and frees by address, so freeing an index twice may free a later block at the same address.

Where malloc.py dies with a traceback (freeing the index of a failed allocation, a bad
operand in `-A`, `-P 0`, a bad policy, a 0-byte block handed out twice) this prints what
malloc.py printed before it died, then one clear line on stderr, and exits with status 2.

The simulator core (`FreeSpace`) is separate from the driver (`simulate`/`steps`, which turn
options into `Step` records: plain data for pictures) and from the text (`format_step`,
`explain`, `run_cli`).  heapviz's C allocator is not used here: its blocks have real headers
and alignment, its lists stay sorted and it merges memory neighbours, so it cannot reproduce
the abstract list above.  `Step` carries the states instead, and `picture_states` turns them
into the states heapviz's renderer draws (base from -b, header only with -H, no heap growth),
which is how `--png DIR` writes one picture per step.
"""

from __future__ import annotations

import argparse
import optparse
import os
import random
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, NoReturn

from heapviz import render, viewer

PROG = "python -m heapviz ostep"
POLICIES = ("BEST", "WORST", "FIRST")
ORDERS = ("ADDRSORT", "SIZESORT+", "SIZESORT-", "INSERT-FRONT", "INSERT-BACK")

StepKind = Literal["start", "alloc", "free", "skip"]


class OstepError(Exception):
    """A run that malloc.py would have ended with a traceback, or a bad option."""


class BadFree(OstepError):
    """`-A` freed the index of a failed allocation (malloc.py: KeyError after printing Free)."""

    def __init__(self, ptr: int, message: str) -> None:
        super().__init__(message)
        self.ptr = ptr


# --------------------------------------------------------------------------------------------
# The simulator core: one free list, one map of allocated blocks.
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """A free-list entry or a block: `size` bytes from `addr` (header included)."""

    addr: int
    size: int

    @property
    def end(self) -> int:
        return self.addr + self.size

    def __str__(self) -> str:
        return f"[ addr:{self.addr} sz:{self.size} ]"


@dataclass(frozen=True)
class Placement:
    """What one allocation did."""

    request: int  # bytes asked for
    need: int  # after rounding up to the alignment and adding the header
    addr: int  # start of the block handed out (its header first), -1 on failure
    searched: int  # list entries visited
    index: int  # list position of the chosen entry, -1 on failure
    chosen: Entry | None  # the chosen entry as it was before the cut
    remainder: Entry | None  # what stays at `index` after a split (None: exact fit or failure)
    visited: tuple[Entry, ...]  # the entries searched, in list order

    @property
    def ok(self) -> bool:
        """A block was handed out.  (malloc.py's own test, addr != -1, is `counted`.)"""
        return self.chosen is not None

    @property
    def counted(self) -> bool:
        """malloc.py records the pointer: it tests addr != -1, so a block at -1 is lost."""
        return self.addr != -1


@dataclass(frozen=True)
class Merge:
    """One coalescing step: `absorbed` joined the entry before it in the list."""

    first: Entry
    absorbed: Entry

    @property
    def merged(self) -> Entry:
        return Entry(self.first.addr, self.first.size + self.absorbed.size)


@dataclass(frozen=True)
class Release:
    """What one free did."""

    addr: int
    rc: int  # 0, or -1 when addr is not an allocated block (nothing changed)
    block: Entry | None  # the block put back
    position: int  # its list position after insertion, before coalescing (-1 when rc is -1)
    merges: tuple[Merge, ...]


def _sort_key(order: str) -> tuple[Callable[[Entry], int], bool] | None:
    """The stable sort malloc.py applies after appending a freed block (None: no sort)."""
    if order == "ADDRSORT":
        return (lambda e: e.addr), False
    if order == "SIZESORT+":
        return (lambda e: e.size), False
    if order == "SIZESORT-":
        return (lambda e: e.size), True
    return None


def check_config(policy: str, order: str, align: int) -> str | None:
    """Why malloc.py's constructor would refuse this configuration (None: it is fine)."""
    if policy not in POLICIES:
        return f"option -p: invalid policy {policy!r} (choose from {', '.join(POLICIES)})"
    if order not in ORDERS:
        return f"option -l: invalid list order {order!r} (choose from {', '.join(ORDERS)})"
    if align != -1 and align <= 0:
        return f"option -a: alignment must be -1 (no alignment) or above 0, not {align}"
    return None


class FreeSpace:
    """malloc.py's allocator: a free list of (addr, size) entries over one region.

    alloc() rounds the request up to the alignment, adds the header, searches the whole list
    in list order (FIRST stops at the first fit) and cuts the block from the low end of the
    chosen entry; the remainder keeps its list position.  free() puts the block back according
    to the list order and, with coalescing, merges every entry into the one before it in the
    list when they touch.  Invariant (for requests > 0): free entries and allocated blocks
    tile [base, base + size) without overlap.
    """

    def __init__(
        self,
        size: int = 100,
        base: int = 1000,
        header_size: int = 0,
        policy: str = "BEST",
        order: str = "ADDRSORT",
        coalesce: bool = False,
        align: int = -1,
    ) -> None:
        problem = check_config(policy, order, align)
        if problem:
            raise OstepError(problem)
        self.size = size
        self.base = base
        self.header_size = header_size
        self.policy = policy
        self.order = order
        self.coalesce = coalesce
        self.align = align
        self.free_list: list[Entry] = [Entry(base, size)]
        self.allocated: dict[int, int] = {}  # block address -> block size (header included)

    def need(self, request: int) -> int:
        """Bytes a request takes: rounded up to the alignment, plus the header."""
        size = request
        if self.align != -1:
            left = size % self.align
            size += self.align - left if left != 0 else 0
        return size + self.header_size

    def alloc(self, request: int) -> Placement:
        need = self.need(request)
        best_idx, best_size = -1, self.size + 1 if self.policy == "BEST" else -1
        count = 0
        for i, entry in enumerate(self.free_list):
            count += 1
            if entry.size >= need and (
                (self.policy == "BEST" and entry.size < best_size)
                or (self.policy == "WORST" and entry.size > best_size)
                or self.policy == "FIRST"
            ):
                best_idx, best_size = i, entry.size
                if self.policy == "FIRST":
                    break
        visited = tuple(self.free_list[:count])
        if best_idx == -1:
            return Placement(request, need, -1, count, -1, None, None, visited)
        chosen = self.free_list[best_idx]
        remainder: Entry | None = None
        if chosen.size > need:
            remainder = Entry(chosen.addr + need, chosen.size - need)
            self.free_list[best_idx] = remainder
        else:
            self.free_list.pop(best_idx)
        if chosen.addr in self.allocated:
            # malloc.py: `assert(addr not in self.sizemap)` in addToMap
            raise OstepError(
                f"Alloc({request}) would hand out address {chosen.addr} again while the block "
                f"there (size {self.allocated[chosen.addr]}) is still allocated, as a block of "
                "size 0 or less leaves its address free; malloc.py stops here with an "
                "AssertionError"
            )
        self.allocated[chosen.addr] = need
        return Placement(request, need, chosen.addr, count, best_idx, chosen, remainder, visited)

    def free(self, addr: int) -> Release:
        if addr not in self.allocated:
            return Release(addr, -1, None, -1, ())
        block = Entry(addr, self.allocated[addr])
        position = self._insert(block)
        merges: tuple[Merge, ...] = ()
        if self.coalesce:
            merges = self._coalesce()
        del self.allocated[addr]
        return Release(addr, 0, block, position, merges)

    def _insert(self, block: Entry) -> int:
        """Put a freed block on the list the way the list order says; return its position."""
        if self.order == "INSERT-FRONT":
            self.free_list.insert(0, block)
            return 0
        self.free_list.append(block)
        sort = _sort_key(self.order)
        if sort is None:
            return len(self.free_list) - 1
        key, reverse = sort
        idx = sorted(
            range(len(self.free_list)), key=lambda i: key(self.free_list[i]), reverse=reverse
        )
        self.free_list = [self.free_list[i] for i in idx]
        return idx.index(len(idx) - 1)

    def _coalesce(self) -> tuple[Merge, ...]:
        """malloc.py's one pass: merge each entry into the running entry before it."""
        merges: list[Merge] = []
        merged: list[Entry] = []
        curr = self.free_list[0]
        for entry in self.free_list[1:]:
            if entry.addr == curr.end:
                merges.append(Merge(curr, entry))
                curr = Entry(curr.addr, curr.size + entry.size)
            else:
                merged.append(curr)
                curr = entry
        merged.append(curr)
        self.free_list = merged
        return tuple(merges)


# --------------------------------------------------------------------------------------------
# Options and the driver: what malloc.py's main program does, as a stream of Step records.
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Options:
    """malloc.py's options (same defaults) and heapviz's additions."""

    seed: int = 0
    heap_size: int = 100
    base: int = 1000
    header_size: int = 0
    alignment: int = -1
    policy: str = "BEST"
    order: str = "ADDRSORT"
    coalesce: bool = False
    num_ops: int = 10
    max_size: int = 10  # -r/--range
    percent_alloc: int = 50
    alloc_list: str = ""
    compute: bool = False
    explain: bool = False
    png: str | None = None
    view: bool = False

    @property
    def random_mode(self) -> bool:
        return self.alloc_list == ""


@dataclass(frozen=True)
class Block:
    """An allocated block and the ptr[] index that owns it."""

    ptr: int
    addr: int
    size: int  # header included; the payload starts at addr + header size
    request: int  # bytes asked for (the rest of the payload is alignment padding)


@dataclass(frozen=True)
class Step:
    """One printed operation (or the start), with the state after it, as plain data."""

    number: int  # 0 for the start, then 1, 2, … per operation printed
    kind: StepKind
    ptr: int  # the ptr[] index allocated or freed (-1 for the start)
    placement: Placement | None  # for an allocation
    release: Release | None  # for a free
    owner: int | None  # for a free: the ptr[] index whose block the address belonged to
    successful: int  # successful allocations so far (what -A compares a free's index with)
    free_list_before: tuple[Entry, ...]
    free_list: tuple[Entry, ...]  # in list order, after the step
    blocks: tuple[Block, ...]  # allocated blocks in address order, after the step
    explanation: tuple[str, ...] = ()


class _Driver:
    """Runs malloc.py's main loop over a FreeSpace and records Steps."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.fs = FreeSpace(
            options.heap_size,
            options.base,
            options.header_size,
            options.policy,
            options.order,
            options.coalesce,
            options.alignment,
        )
        self.owner: dict[int, tuple[int, int]] = {}  # block address -> (ptr index, request)
        self.successful = 0
        self.number = 0

    def step(
        self,
        kind: StepKind,
        ptr: int,
        before: tuple[Entry, ...],
        placement: Placement | None = None,
        release: Release | None = None,
        owner: int | None = None,
    ) -> Step:
        blocks = tuple(
            Block(ptr=self.owner[a][0], addr=a, size=size, request=self.owner[a][1])
            for a, size in sorted(self.fs.allocated.items())
        )
        step = Step(
            number=self.number,
            kind=kind,
            ptr=ptr,
            placement=placement,
            release=release,
            owner=owner,
            successful=self.successful,
            free_list_before=before,
            free_list=tuple(self.fs.free_list),
            blocks=blocks,
        )
        self.number += 1
        return replace(step, explanation=tuple(explain(step, self.options)))

    def alloc(self, ptr: int, request: int) -> Step:
        before = tuple(self.fs.free_list)
        placement = self.fs.alloc(request)
        if placement.ok:
            self.owner[placement.addr] = (ptr, request)
        if placement.counted:
            self.successful += 1
        return self.step("alloc", ptr, before, placement=placement)

    def free(self, ptr: int, addr: int) -> Step:
        before = tuple(self.fs.free_list)
        owner = self.owner[addr][0] if addr in self.owner else None
        release = self.fs.free(addr)
        if release.rc == 0:
            del self.owner[addr]
        return self.step("free", ptr, before, release=release, owner=owner)

    def start(self) -> Step:
        return self.step("start", -1, tuple(self.fs.free_list))


def simulate(options: Options) -> Iterator[Step]:
    """malloc.py's run as Steps: the start, then one per operation it prints.

    Raises OstepError where malloc.py dies (BadFree for the index of a failed allocation);
    the steps yielded before are what malloc.py printed before it died.
    """
    driver = _Driver(options)
    yield driver.start()
    if options.percent_alloc / 100.0 <= 0:
        raise OstepError(
            f"option -P: the percent of allocations must be above 0, not {options.percent_alloc}"
            " (malloc.py stops here with an AssertionError)"
        )
    if options.random_mode:
        yield from _random_ops(driver, options)
    else:
        yield from _listed_ops(driver, options.alloc_list)


def _random_ops(driver: _Driver, options: Options) -> Iterator[Step]:
    rng = random.Random()
    rng.seed(options.seed)  # malloc.py: random.seed(int(seed)); an int seeds alike in versions 1, 2
    percent = options.percent_alloc / 100.0
    live: dict[int, int] = {}  # ptr index -> block address (malloc.py's p)
    order: list[int] = []  # live ptr indices in allocation order (malloc.py's L)
    c = done = 0
    while done < options.num_ops:
        if rng.random() < percent:
            size = int(rng.random() * options.max_size) + 1
            step = driver.alloc(c, size)
            if step.placement is not None and step.placement.counted:
                live[c] = step.placement.addr
                order.append(c)
            c += 1
        elif live:
            d = int(rng.random() * len(order))
            ptr = order.pop(d)
            step = driver.free(ptr, live.pop(ptr))
        else:
            continue  # nothing live to free: nothing printed, not counted
        done += 1
        yield step


def _operand(op: str, sign: str) -> int:
    """malloc.py's `int(op.split(sign)[1])`, with its error made clear."""
    text = op.split(sign)[1]
    try:
        return int(text)
    except ValueError:
        what = "+Size" if sign == "+" else "-Index"
        raise OstepError(
            f"option -A: bad operand {op!r}: {text!r} is not a number (expected {what})"
        ) from None


def _listed_ops(driver: _Driver, alloc_list: str) -> Iterator[Step]:
    c = 0
    p: dict[int, int] = {}  # ptr index -> block address, successful allocations only
    for op in alloc_list.split(","):
        if op[:1] == "+":
            step = driver.alloc(c, _operand(op, "+"))
            if step.placement is not None and step.placement.counted:
                p[c] = step.placement.addr
            c += 1
            yield step
        elif op[:1] == "-":
            index = _operand(op, "-")
            before = tuple(driver.fs.free_list)
            if index >= len(p):
                yield driver.step("skip", index, before)
            elif index not in p:
                raise BadFree(
                    index,
                    f"option -A: {op!r} frees ptr[{index}], but Alloc number {index} failed, so"
                    " there is no such pointer (malloc.py stops here with a KeyError)",
                )
            else:
                yield driver.free(index, p[index])
        else:
            where = "an empty operation" if op == "" else f"bad operand {op!r}"
            raise OstepError(
                f"option -A: {where} in {alloc_list!r}: each operation must be +Size or -Index"
            )


def steps(options: Options) -> list[Step]:
    """Every Step of a run (the start first), for pictures.  Raises OstepError like simulate."""
    return list(simulate(options))


# --------------------------------------------------------------------------------------------
# malloc.py's text.
# --------------------------------------------------------------------------------------------
def header_text(options: Options) -> str:
    rows = [
        ("seed", options.seed),
        ("size", options.heap_size),
        ("baseAddr", options.base),
        ("headerSize", options.header_size),
        ("alignment", options.alignment),
        ("policy", options.policy),
        ("listOrder", options.order),
        ("coalesce", options.coalesce),
        ("numOps", options.num_ops),
        ("range", options.max_size),
        ("percentAlloc", options.percent_alloc),
        ("allocList", options.alloc_list),
        ("compute", options.compute),
    ]
    return "".join(f"{name} {value}\n" for name, value in rows) + "\n"


def list_text(free_list: Sequence[Entry]) -> str:
    return f"Free List [ Size {len(free_list)} ]: " + "".join(str(e) for e in free_list)


def format_step(step: Step, options: Options) -> str:
    """The lines malloc.py prints for one step (with --explain, the explanation too)."""
    solve = options.compute
    if step.kind == "start":
        return ""
    if step.kind == "skip":
        return "Invalid Free: Skipping\n" + _explain_text(step, options)
    if step.kind == "alloc":
        assert step.placement is not None
        shown = step.placement.addr
        if options.random_mode:
            shown += options.header_size
        text = f"ptr[{step.ptr}] = Alloc({step.placement.request})"
        text += (
            f" returned {shown} (searched {step.placement.searched} elements)\n"
            if solve
            else (" returned ?\n")
        )
    else:
        assert step.release is not None
        text = f"Free(ptr[{step.ptr}])\n"
        text += f"returned {step.release.rc}\n" if solve else "returned ?\n"
    if solve:
        text += list_text(step.free_list) + "\n"
    else:
        text += "List? \n" if options.random_mode else "List?\n"
    return text + _explain_text(step, options) + "\n"


def _explain_text(step: Step, options: Options) -> str:
    if not options.explain:
        return ""
    labels = ("  why:  ", "  then: ")
    return "".join(
        f"{label}{line}\n" for label, line in zip(labels, step.explanation, strict=False)
    )


# --------------------------------------------------------------------------------------------
# --explain: why the policy chose that block, and what was split or coalesced.
# --------------------------------------------------------------------------------------------
def _entries(n: int) -> str:
    return f"{n} entry" if n == 1 else f"{n} entries"


def _all(n: int) -> str:
    return "the only entry" if n == 1 else f"all {n} entries"


def _need_phrase(p: Placement, options: Options) -> str:
    aligned = p.need - options.header_size
    parts: list[str] = []
    if aligned != p.request:
        parts.append(f"{p.request} rounded up to {aligned} for alignment {options.alignment}")
    if options.header_size:
        parts.append(f"plus a {options.header_size}-byte header")
    if not parts:
        return f"{p.need} bytes"
    return f"{p.need} bytes ({', '.join(parts)})"


def explain(step: Step, options: Options) -> list[str]:
    """One or two plain sentences about a step (empty for the start)."""
    if step.kind == "alloc" and step.placement is not None:
        return _explain_alloc(step, step.placement, options)
    if step.kind == "free" and step.release is not None:
        return _explain_free(step, step.release, options)
    if step.kind == "skip":
        return [_explain_skip(step)]
    return []


def _explain_alloc(step: Step, p: Placement, options: Options) -> list[str]:
    policy, need = options.policy, _need_phrase(p, options)
    if not p.ok:
        return [_explain_failure(p, options, need)]
    if policy == "FIRST":
        why = (
            f"FIRST fit stopped at entry {p.index + 1} of the list ({p.searched} searched): "
            f"the first that holds {need} is {p.chosen}."
        )
    else:
        which = "smallest" if policy == "BEST" else "largest"
        assert p.chosen is not None
        ties = sum(1 for e in p.visited if e.size == p.chosen.size and e.size >= p.need)
        tie = f" (the first of {ties} that size in list order)" if ties > 1 else ""
        why = (
            f"{policy} fit searched {_all(p.searched)}; the {which} that holds "
            f"{need} is {p.chosen}{tie}."
        )
    payload = ""
    if not p.counted:
        payload = " (but malloc.py takes the address -1 for a failure and drops the pointer)"
    elif options.random_mode and options.header_size:
        payload = f" (malloc.py returns {p.addr + options.header_size}, just past the header)"
    if p.remainder is None:
        then = f"It fits exactly, so the whole entry goes to ptr[{step.ptr}]{payload} and leaves "
        then += "the free list."
    else:
        then = (
            f"It was split: {p.need} bytes at {p.addr} go to ptr[{step.ptr}]{payload} and the "
            f"remainder {p.remainder} stays at the same place in the list"
        )
        then += _unsorted_note(step.free_list, options.order) + "."
    return [why, then]


def _explain_failure(p: Placement, options: Options, need: str) -> str:
    if not p.visited:
        return f"The free list is empty, so Alloc({p.request}) fails and returns -1."
    largest = max(e.size for e in p.visited)
    text = (
        f"{options.policy} fit searched {_entries(p.searched)} and none holds {need}: the "
        f"largest has {largest}, so the allocation fails and returns -1"
    )
    if largest >= p.need and options.policy == "BEST":
        text = (
            f"{options.policy} fit searched {_entries(p.searched)}; malloc.py's best fit only "
            f"takes entries smaller than the heap size + 1 ({options.heap_size + 1}), so it "
            "fails and returns -1"
        )
    if options.random_mode and options.header_size:
        text += f" (printed as -1 + the header size: {options.header_size - 1})"
    return text + "."


def _unsorted_note(free_list: Sequence[Entry], order: str) -> str:
    sort = _sort_key(order)
    if sort is None or order == "ADDRSORT":
        return ""
    key, reverse = sort
    if list(free_list) == sorted(free_list, key=key, reverse=reverse):
        return ""
    return " (malloc.py does not re-sort the list after a split, so it is now out of order)"


_PLACES = {
    "ADDRSORT": "kept in address order",
    "SIZESORT+": "sorted by size, smallest first",
    "SIZESORT-": "sorted by size, largest first",
}


def _explain_free(step: Step, r: Release, options: Options) -> list[str]:
    if r.rc != 0 or r.block is None:
        return [
            f"Address {r.addr} (ptr[{step.ptr}]) is not an allocated block any more — it was "
            "already freed — so free returns -1 and the list does not change."
        ]
    owner = step.ptr if step.owner is None else step.owner
    n = len(step.free_list_before) + 1
    if options.order == "INSERT-FRONT":
        where = " at the front"
    elif options.order == "INSERT-BACK":
        where = f" at the back (position {n})"
    else:
        where = f", {_PLACES[options.order]}: position {r.position + 1} of {n}"
    why = f"Free puts ptr[{owner}]'s block {r.block} back on the list{where}."
    if owner != step.ptr:
        why = (
            f"Address {r.addr} in ptr[{step.ptr}] now belongs to ptr[{owner}] and malloc.py "
            f"frees by address, so free puts ptr[{owner}]'s block {r.block} back on the "
            f"list{where}."
        )
    then = _explain_coalesce(r, step.free_list, options)
    return [why, then] if then else [why]


def _explain_coalesce(r: Release, free_list: Sequence[Entry], options: Options) -> str:
    assert r.block is not None
    addr = r.block.addr
    here = next((e for e in free_list if e.addr <= addr < e.end), r.block)
    touching = [
        (a, b)
        for a in free_list
        for b in free_list
        if a is not b and a.end == b.addr and here in (a, b)
    ]
    pairs = ", ".join(f"{a} and {b}" for a, b in touching)
    if not options.coalesce:
        if not touching:
            return ""
        return f"Without -C nothing is coalesced, so {pairs} stay apart although they touch."
    apart = "malloc.py only merges an entry into the one just before it in the list"
    if not r.merges:
        if not touching:
            return "Coalescing merged nothing."
        return f"Coalescing merged nothing: {pairs} touch in memory, but {apart}."
    merged = "; ".join(f"{m.first} + {m.absorbed} -> {m.merged}" for m in r.merges)
    text = f"Coalescing merged list neighbours that touch: {merged}"
    if touching:
        text += f"; {pairs} also touch in memory, but {apart}"
    return text + "."


def _explain_skip(step: Step) -> str:
    text = (
        f"Index {step.ptr} is not below {step.successful}, the number of successful "
        "allocations so far, so malloc.py skips this free"
    )
    if any(b.ptr == step.ptr for b in step.blocks):
        text += f" (even though ptr[{step.ptr}] is allocated: malloc.py compares with the count)"
    return text + "."


# --------------------------------------------------------------------------------------------
# The command line: malloc.py's optparse parser, as is, plus heapviz's additions.
# --------------------------------------------------------------------------------------------
class _ParserExit(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Parser(optparse.OptionParser):
    """optparse as malloc.py uses it, except that exiting raises instead of sys.exit."""

    def exit(self, status: int = 0, msg: str | None = None) -> NoReturn:
        if msg:
            sys.stderr.write(msg)
        raise _ParserExit(status)


def build_parser(prog: str = PROG) -> optparse.OptionParser:
    """malloc.py's OptionParser (same options, defaults and help) plus heapviz's additions."""
    parser = _Parser(prog=prog)
    add = parser.add_option
    add("-s", "--seed", default=0, help="the random seed",
        action="store", type="int", dest="seed")  # fmt: skip
    add("-S", "--size", default=100, help="size of the heap",
        action="store", type="int", dest="heapSize")  # fmt: skip
    add("-b", "--baseAddr", default=1000, help="base address of heap",
        action="store", type="int", dest="baseAddr")  # fmt: skip
    add("-H", "--headerSize", default=0, help="size of the header",
        action="store", type="int", dest="headerSize")  # fmt: skip
    add("-a", "--alignment", default=-1, help="align allocated units to size; -1->no align",
        action="store", type="int", dest="alignment")  # fmt: skip
    add("-p", "--policy", default="BEST", help="list search (BEST, WORST, FIRST)",
        action="store", type="string", dest="policy")  # fmt: skip
    add("-l", "--listOrder", default="ADDRSORT",
        help="list order (ADDRSORT, SIZESORT+, SIZESORT-, INSERT-FRONT, INSERT-BACK)",
        action="store", type="string", dest="order")  # fmt: skip
    add("-C", "--coalesce", default=False, help="coalesce the free list?",
        action="store_true", dest="coalesce")  # fmt: skip
    add("-n", "--numOps", default=10, help="number of random ops to generate",
        action="store", type="int", dest="opsNum")  # fmt: skip
    add("-r", "--range", default=10, help="max alloc size",
        action="store", type="int", dest="opsRange")  # fmt: skip
    add("-P", "--percentAlloc", default=50, help="percent of ops that are allocs",
        action="store", type="int", dest="opsPAlloc")  # fmt: skip
    add("-A", "--allocList", default="", help="instead of random, list of ops (+10,-0,etc)",
        action="store", type="string", dest="opsList")  # fmt: skip
    add("-c", "--compute", default=False, help="compute answers for me",
        action="store_true", dest="solve")  # fmt: skip
    extra = optparse.OptionGroup(parser, "heapviz additions")
    extra.add_option("--explain", action="store_true", default=False, dest="explain",
                     help="after each step, say why the policy chose that block and what was "
                     "split or coalesced")  # fmt: skip
    extra.add_option("--png", metavar="DIR", default=None, dest="png",
                     help="write a picture of the heap after each step into DIR")  # fmt: skip
    extra.add_option("-o", "--out", metavar="DIR", default=None, dest="png",
                     help="the same as --png: where the pictures go")  # fmt: skip
    extra.add_option("--view", action="store_true", default=False, dest="view",
                     help="play the run in heapviz's viewer")  # fmt: skip
    parser.add_option_group(extra)
    return parser


def _options_from(values: optparse.Values) -> Options:
    return Options(
        seed=values.seed,
        heap_size=values.heapSize,
        base=values.baseAddr,
        header_size=values.headerSize,
        alignment=values.alignment,
        policy=values.policy,
        order=values.order,
        coalesce=values.coalesce,
        num_ops=values.opsNum,
        max_size=values.opsRange,
        percent_alloc=values.opsPAlloc,
        alloc_list=values.opsList,
        compute=values.solve,
        explain=values.explain,
        png=values.png,
        view=values.view,
    )


def parse_options(argv: Sequence[str], prog: str = PROG) -> Options:
    """Options from malloc.py-style arguments; OstepError for what the parser refuses."""
    parser = build_parser(prog)
    try:
        values, _ = parser.parse_args(list(argv))
    except _ParserExit as exc:
        raise OstepError(f"bad options (status {exc.status})") from None
    options = _options_from(values)
    problem = check_config(options.policy, options.order, options.alignment)
    if problem:
        raise OstepError(problem)
    return options


# --- pictures -------------------------------------------------------------------------------
_HV_POLICY = {"BEST": "best", "WORST": "worst", "FIRST": "first"}
_HV_ORDER = {
    "ADDRSORT": "address",
    "SIZESORT+": "size",
    "SIZESORT-": "size-desc",
    "INSERT-FRONT": "lifo",
    "INSERT-BACK": "fifo",
}
_MARK_JUST_FREED, _MARK_NEW = 1, 16  # HV_MARK_* in include/heapviz/viz.h
_LOG_LINES, _LOG_WIDTH = 8, 150  # the renderer keeps 8 log lines of < 160 bytes


def _summary(step: Step, options: Options) -> str:
    """A step as one line of malloc.py's output (with the answers)."""
    if step.kind == "alloc" and step.placement is not None:
        shown = step.placement.addr + (options.header_size if options.random_mode else 0)
        return (
            f"ptr[{step.ptr}] = Alloc({step.placement.request}) returned {shown} "
            f"(searched {step.placement.searched} elements)"
        )
    if step.kind == "free" and step.release is not None:
        return f"Free(ptr[{step.ptr}]) returned {step.release.rc}"
    return "Invalid Free: Skipping" if step.kind == "skip" else "start"


def picture_states(run: Sequence[Step], options: Options) -> list[dict[str, Any]]:
    """One state per Step in the dict form heapviz's renderer draws (`heapviz._viz.render`).

    The OSTEP list as it is: blocks at their addresses (header size from -H, no footer, no
    heap growth: the break is base + size), the free list in list order, ptr[i] as variables
    pointing at the payload, running counts as stats, malloc.py's lines and the explanation
    as the log.  Raises OstepError for what cannot be drawn (sizes <= 0, negative addresses).
    """
    header, base, size = options.header_size, options.base, options.heap_size
    states: list[dict[str, Any]] = []
    history: list[str] = []
    counts = {"n_malloc": 0, "n_free": 0, "n_split": 0, "n_coalesce": 0, "n_errors": 0}
    peak = 0
    for step in run:
        p, r = step.placement, step.release
        counts["n_malloc"] += step.kind == "alloc"
        counts["n_free"] += step.kind == "free" and r is not None and r.rc == 0
        counts["n_split"] += p is not None and p.remainder is not None
        counts["n_coalesce"] += len(r.merges) if r is not None else 0
        counts["n_errors"] += step.kind == "skip" or (r is not None and r.rc != 0)
        new = p.addr if p is not None and p.ok else None
        freed = r.block if r is not None and r.rc == 0 else None
        blocks: list[dict[str, Any]] = [
            {"addr": e.addr, "size": e.size, "state": "free",
             "marks": _MARK_JUST_FREED if freed and e.addr <= freed.addr < e.end else 0}
            for e in step.free_list
        ] + [
            {"addr": b.addr, "size": b.size, "state": "allocated", "payload": b.addr + header,
             "requested": max(b.request, 0), "marks": _MARK_NEW if b.addr == new else 0}
            for b in step.blocks
        ]  # fmt: skip
        if base < 0 or any(b["addr"] < 0 or b["size"] <= 0 for b in blocks):
            raise OstepError(
                "--png/--view: this run has blocks of size 0 or less or negative addresses, "
                "which heapviz's renderer cannot draw"
            )
        in_use = sum(b.size for b in step.blocks)
        payload = sum(max(b.request, 0) for b in step.blocks)
        free_bytes = sum(e.size for e in step.free_list)
        largest = max((e.size for e in step.free_list), default=0)
        peak = max(peak, payload)
        if step.kind != "start":
            history.append(_summary(step, options))
        why = [w for line in step.explanation for w in textwrap.wrap(line, _LOG_WIDTH)]
        log = (history[-(_LOG_LINES - len(why)) :] if len(why) < _LOG_LINES else []) + why
        states.append({  # the keys of hv_state_from_dict in viz/py_state.c
            "policy": _HV_POLICY[options.policy],
            "order": _HV_ORDER[options.order],
            "coalesce": "immediate" if options.coalesce else "none",
            "align": max(options.alignment, 1),
            "header_size": header, "footer_size": 0,
            "heap_base": base, "brk": base + size, "max_size": size,
            "op": step.number, "ops_total": len(run) - 1,
            "blocks": sorted(blocks, key=lambda b: b["addr"]),
            "free_lists": [[e.addr for e in step.free_list]],
            "vars": {f"ptr[{b.ptr}]": b.addr + header for b in step.blocks},
            "log": log[-_LOG_LINES:],
            "notice": f"OSTEP malloc.py · step {step.number}/{len(run) - 1}",
            "stats": {
                "heap_size": size, "brk_size": size, "in_use": in_use, "payload": payload,
                "free_bytes": free_bytes, "largest_free": largest,
                "free_blocks": len(step.free_list), "alloc_blocks": len(step.blocks),
                "utilization": peak / size if size > 0 else 0.0,
                "frag_internal": 1 - payload / in_use if in_use else 0.0,
                "frag_external": 1 - largest / free_bytes if free_bytes else 0.0,
                **counts,
            },
        })  # fmt: skip
    return states


Drawer = Callable[[list[Step]], None]


def _png_writer(options: Options, directory: Path) -> Drawer:
    """--png: each state of `picture_states` drawn by heapviz.render.render_png."""
    if not render.available():
        raise OstepError(f"--png: heapviz's renderer is not available yet: {render._MISSING}")
    zoom = max(1.0, min(8.0, 400 / max(options.heap_size, 1)))  # a small heap drawn wide

    def write(run: list[Step]) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        states = picture_states(run, options)
        for step, state in zip(run, states, strict=True):
            path = directory / f"step-{step.number:03d}.png"
            render.render_png(state, path, width=1200, vars=state["vars"], zoom=zoom)
        sys.stderr.write(f"wrote {len(states)} pictures to {directory}\n")

    return write


def _renderer(options: Options) -> Drawer | None:
    """The picture path for --png/--view (None when neither was asked for).

    --png writes DIR/step-NNN.png, one per Step (the start is step 000), with heapviz's
    renderer.  --view plays the run in heapviz's window (viewer.play_ostep).  A missing
    renderer is said before any output, as an OstepError.
    """
    drawers: list[Drawer] = []
    if options.png:
        drawers.append(_png_writer(options, Path(options.png)))
    if options.view:
        if not render.available():
            raise OstepError(f"--view: heapviz's renderer is not available yet: "
                             f"{render._MISSING}")
        drawers.append(lambda run: _play(run, options))
    if not drawers:
        return None

    def draw(run: list[Step]) -> None:
        for drawer in drawers:
            drawer(run)

    return draw


def _play(run: list[Step], options: Options) -> None:
    """--view: the run in heapviz's window (viewer.play_ostep), one picture per step."""
    try:
        viewer.play_ostep(run, picture_states(run, options))
    except (viewer.NoDisplay, RuntimeError) as e:
        raise OstepError(str(e)) from None


# --- running ----------------------------------------------------------------------------------
def _fail(prog: str, message: str) -> int:
    sys.stdout.flush()
    sys.stderr.write(f"{prog}: error: {message}\n")
    return 2


def _print_run(options: Options, prog: str) -> tuple[int, list[Step]]:
    """Print malloc.py's output; the status and the steps done (for pictures)."""
    out = sys.stdout
    out.write(header_text(options))
    run: list[Step] = []
    try:
        for step in simulate(options):
            run.append(step)
            out.write(format_step(step, options))
    except BadFree as exc:
        out.write(f"Free(ptr[{exc.ptr}])\n")  # malloc.py printed this line, then died
        return _fail(prog, str(exc)), run
    except OstepError as exc:
        return _fail(prog, str(exc)), run
    return 0, run


def run_cli(argv: Sequence[str], prog: str = PROG) -> int:
    """`python -m heapviz ostep ARGS…`: malloc.py's output on stdout; the exit status."""
    parser = build_parser(prog)
    try:
        values, _ = parser.parse_args(list(argv))
        options = _options_from(values)
        problem = check_config(options.policy, options.order, options.alignment)
        if problem:
            parser.error(problem)
    except _ParserExit as exc:
        return exc.status
    try:
        draw = _renderer(options)  # before any output: a missing renderer is said at once
        status, run = _print_run(options, prog)
        sys.stdout.flush()
        if draw is not None:
            draw(run)
    except OstepError as exc:
        return _fail(prog, str(exc))
    except BrokenPipeError:  # `… | head`: stop quietly, as a shell tool should
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return status


# --- `python -m heapviz` integration (its argparse parser lists every subcommand) -----------
def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "ostep_args", nargs=argparse.REMAINDER, metavar="OPTIONS",
        help="malloc.py's options; see `python -m heapviz ostep --help`",
    )  # fmt: skip


def main(args: argparse.Namespace) -> int:
    return run_cli(list(args.ostep_args))


if __name__ == "__main__":
    sys.exit(run_cli(sys.argv[1:]))
