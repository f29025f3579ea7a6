"""Small, stable records that describe a heap: Site, Block, Event, Stats, Leak.

Block and Event are frozen dataclasses in everything a script sees (their fields,
equality, hash, repr, `dataclasses.fields`/`asdict`/`replace`, pickling), but they are
stored in C (`_core.BlockRecord`, `_core.EventRecord`): `h.blocks()` on a heap of 100,000
blocks builds them in one walk in C instead of one Python constructor call per block.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from heapviz import _core

BLOCK_STATES: tuple[str, ...] = tuple(_core.BLOCK_STATE_NAMES)


@dataclass(frozen=True)
class Site:
    """A line of the student's code: where something happened."""

    file: str
    line: int
    function: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def short(self) -> str:
        """`lesson.py:12` — the file's base name and the line."""
        return f"{self.file.rsplit('/', 1)[-1]}:{self.line}"


# init/eq come from the C base (fields by position or name; the same class and equal
# fields), so the dataclass adds only the rest: fields(), frozen, repr, __match_args__.
@dataclass(frozen=True, init=False, eq=False)
class Block(_core.BlockRecord):
    """One block of the heap (or an mmapped chunk, a raw mapping, a stack object).

    `address` is the block start, header included; `size` the whole block;
    `payload`/`payload_size` the usable part; `requested` what malloc was asked for.
    """

    __slots__ = ()

    address: int
    size: int
    payload: int
    payload_size: int
    requested: int
    state: str
    header: int
    footer: int
    magic: int
    prev_alloc: bool
    has_footer: bool
    seq: int
    site: Site | None
    free_site: Site | None
    gen: int
    list: int
    next_free: int | None
    prev_free: int | None

    @property
    def end(self) -> int:
        """One past the block's last byte."""
        return self.address + self.size

    @property
    def allocated(self) -> bool:
        return self.state in ("allocated", "mmapped")

    @property
    def header_fields(self) -> dict[str, Any]:
        """The decoded header word: size and flag bits."""
        return {
            "size": self.header & ~0x7,
            "allocated": bool(self.header & 1),
            "prev_allocated": bool(self.header & 2),
        }

    def __repr__(self) -> str:
        extra = f" requested={self.requested}" if self.allocated else ""
        return f"<Block {self.state} 0x{self.address:x} size={self.size}{extra}>"


# Names of the kind-specific fields of each event kind (`a`, `b` and the meaning of
# `address`/`size`), so that Event.fields reads like the documentation of hv_event_kind_t.
_EVENT_FIELDS: dict[str, tuple[str, str, str, str]] = {
    "malloc": ("payload", "requested", "block", "block_size"),
    "calloc": ("payload", "requested", "block", "block_size"),
    "realloc": ("payload", "requested", "old_payload", "old_requested"),
    "free": ("payload", "requested", "block", "block_size"),
    "split": ("block", "size", "remainder", "remainder_size"),
    "coalesce": ("block", "size", "absorbed", "absorbed_size"),
    "grow": ("old_break", "increment", "a", "b"),
    "shrink": ("new_break", "decrement", "a", "b"),
    "mmap": ("mapping", "size", "a", "b"),
    "munmap": ("mapping", "size", "a", "b"),
    "fail": ("address", "size", "reason", "b"),
    "error": ("address", "access_size", "error_kind", "report_site"),
    "lost": ("payload", "requested", "block", "alloc_seq"),
    "write": ("address", "size", "a", "b"),
    "place": ("block", "size", "searched", "list"),
}


@dataclass(frozen=True, init=False, eq=False)
class Event(_core.EventRecord):
    """One recorded step: an operation or a sub-step of one (split, coalesce, grow…)."""

    __slots__ = ()

    seq: int
    op: int
    kind: str
    flags: int
    site: Site | None
    address: int
    size: int
    a: int
    b: int

    @property
    def fields(self) -> dict[str, int]:
        names = _EVENT_FIELDS.get(self.kind, ("address", "size", "a", "b"))
        return dict(zip(names, (self.address, self.size, self.a, self.b), strict=True))

    @property
    def moved(self) -> bool:
        """realloc only: the block moved."""
        return bool(self.flags & _core.EVF_MOVED)

    def __str__(self) -> str:
        where = f"  [{self.site.short}]" if self.site else ""
        f = ", ".join(f"{k}={v:#x}" if "addr" in k or k in ("payload", "block", "old_payload",
                      "remainder", "absorbed", "mapping", "old_break", "new_break")
                      else f"{k}={v}" for k, v in self.fields.items() if k not in ("a", "b"))
        return f"#{self.seq} op {self.op} {self.kind}({f}){where}"


@dataclass(frozen=True)
class Stats:
    """Numbers about the heap now.  utilization is CS:APP's: peak live payload / heap size."""

    heap_size: int
    brk_size: int
    mmapped: int
    in_use: int
    payload: int
    peak_payload: int
    free_bytes: int
    largest_free: int
    free_blocks: int
    alloc_blocks: int
    utilization: float
    frag_internal: float
    frag_external: float
    n_malloc: int
    n_calloc: int
    n_realloc: int
    n_free: int
    n_failed: int
    n_split: int
    n_coalesce: int
    n_grow: int
    n_mmap: int
    n_munmap: int
    n_errors: int
    ops: int
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Leak:
    """A block nobody can free any more, classified as valgrind's memcheck does."""

    kind: str  # "definitely lost", "indirectly lost", "possibly lost", "still reachable"
    block: Block
    size: int  # bytes requested
    alloc_site: Site | None

    def __str__(self) -> str:
        where = f" alloc'd at {self.alloc_site}" if self.alloc_site else ""
        return f"{self.size} bytes {self.kind} (block 0x{self.block.payload:x}){where}"


def site_of(sites: Any, site_id: int) -> Site | None:
    """The Site of an interned site id; `sites` is the heap that interned it (None, or a
    closed heap: no site)."""
    if not site_id or sites is None or sites.closed:
        return None
    return sites._site_record(site_id)  # type: ignore[no-any-return]  # one per heap and id


def block_from_tuple(sites: Any, t: tuple[Any, ...]) -> Block:
    """Build a Block from a raw block tuple (the binding's block_tuple in heapobj.c, and a
    replay's in viz/py_moment.c: the same format); `sites` resolves its site ids."""
    (addr, size, payload, psize, requested, state, header, footer, magic, prev_alloc,
     has_footer, seq, site, free_site, gen, lst, nxt, prv) = t
    return Block(
        address=addr, size=size, payload=payload, payload_size=psize, requested=requested,
        state=BLOCK_STATES[state] if 0 <= state < len(BLOCK_STATES) else str(state),
        header=header, footer=footer, magic=magic, prev_alloc=bool(prev_alloc),
        has_footer=bool(has_footer), seq=seq, site=site_of(sites, site),
        free_site=site_of(sites, free_site), gen=gen, list=lst,
        next_free=nxt or None, prev_free=prv or None,
    )


# The heap's whole-heap queries build these classes (and share Site records per heap).
_core._set_records(Site, Block, Event)
