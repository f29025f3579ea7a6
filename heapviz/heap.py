"""heapviz.Heap: a heap a student can watch.

The hot calls (malloc, free, calloc, realloc, and every byte access through a Pointer) are
implemented in C by `heapviz._core.Heap`; this subclass adds the friendly parts: keyword
validation with messages that name the allowed values, records (Block, Stats, Event),
leaks, stack frames, and the doors to the viewer.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import Any, overload

from heapviz import _core, options, sizes
from heapviz.records import BLOCK_STATES, Block, Event, Site, Stats

# The option names and values, for whoever imported them from here (heapviz.options).
POLICIES, ORDERS, COALESCE, CHECKS, ALIGNS = (
    options.POLICIES, options.ORDERS, options.COALESCE, options.CHECKS, options.ALIGNS)


def block_from_tuple(heap: Any, t: tuple[Any, ...]) -> Block:
    """Build a Block from the binding's raw tuple (see block_tuple in heapobj.c)."""
    (addr, size, payload, psize, requested, state, header, footer, magic, prev_alloc,
     has_footer, seq, site, free_site, gen, lst, nxt, prv) = t
    return Block(
        address=addr, size=size, payload=payload, payload_size=psize, requested=requested,
        state=BLOCK_STATES[state] if 0 <= state < len(BLOCK_STATES) else str(state),
        header=header, footer=footer, magic=magic, prev_alloc=bool(prev_alloc),
        has_footer=bool(has_footer), seq=seq, site=_site(heap, site),
        free_site=_site(heap, free_site), gen=gen, list=lst,
        next_free=nxt or None, prev_free=prv or None,
    )


def _site(heap: Any, site_id: int) -> Site | None:
    if not site_id:
        return None
    t = heap._site_info(site_id)
    return Site(*t) if t else None


class EventLog(Sequence[Event]):
    """The recorded history, read lazily from the core (no Python objects are kept).

    Indexes are event sequence numbers.  When the history limit dropped old events,
    `truncated` is True and `first` tells where the history now starts.
    """

    def __init__(self, heap: Heap) -> None:
        self._heap = heap

    @property
    def first(self) -> int:
        return int(self._heap._history()[0])

    @property
    def truncated(self) -> bool:
        return self.first > 0

    def __len__(self) -> int:
        return int(self._heap._history()[1])

    def _make(self, t: tuple[Any, ...]) -> Event:
        seq, op, kind, flags, site, addr, size, a, b = t
        names = _core.EVENT_KINDS
        return Event(seq, op, names[kind] if kind < len(names) else str(kind), flags,
                     _site(self._heap, site), addr, size, a, b)

    @overload
    def __getitem__(self, i: int) -> Event: ...
    @overload
    def __getitem__(self, i: slice) -> list[Event]: ...

    def __getitem__(self, i: int | slice) -> Event | list[Event]:
        first, count = self._heap._history()
        if isinstance(i, slice):
            lo, hi, step = i.indices(count)
            lo = max(lo, first)
            return [self._make(t) for t in self._heap._events(lo, hi)][::step]
        if i < 0:
            i += count
        if not first <= i < count:
            if 0 <= i < first:
                raise IndexError(f"event {i} was dropped: the history keeps the last "
                                 f"{count - first} events (Heap(history_limit=…))")
            raise IndexError(f"no event {i}: {count} recorded")
        t = self._heap._event(i)
        assert t is not None
        return self._make(t)

    def __iter__(self) -> Iterator[Event]:
        first, count = self._heap._history()
        for lo in range(first, count, 4096):
            for t in self._heap._events(lo, min(count, lo + 4096)):
                yield self._make(t)

    def __repr__(self) -> str:
        first, count = self._heap._history()
        note = f", oldest {first} dropped (history limit)" if first else ""
        return f"<EventLog {count - first} events{note}>"


class Frame:
    """A stack frame of the simulated stack: automatic memory that dies with the frame.

    A context manager: `with h.frame("main") as f:` pushes it, the end of the block pops
    it (and every object in it dies: later use is a UseAfterReturn)."""

    def __init__(self, heap: Heap, name: str) -> None:
        self.heap, self.name = heap, name
        self.active = False

    def __enter__(self) -> Frame:
        self.heap._frame_push(self.name)
        self.active = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self.active and not self.heap.closed:
            self.heap._frame_pop()
        self.active = False

    def alloc(self, n: int) -> _core.Pointer:
        """n bytes of automatic (stack) memory, like a local array `char buf[n]`."""
        return self.heap._frame_alloc(n)

    def array(self, ctype: str, count: int) -> _core.Pointer:
        """A local array `ctype name[count]`, as a typed Pointer."""
        n = sizes.size_arg(count, "array", "count", self.heap)
        if n is None:
            return _core.NULL
        if n == 0:
            raise ValueError("array(): count must be positive (a C array has at least one "
                             "element)")
        return self.heap._frame_alloc(_core.sizeof(ctype) * n).cast(ctype)


class Heap(_core.Heap):
    """A heap over an mmap-backed arena; every operation is recorded and can be drawn.

    >>> h = Heap()
    >>> p = h.malloc(16)
    >>> hex(p)
    '0x10010'
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cfg = options.bind(args, kwargs)
        super().__init__(**options.core_kwargs(cfg))
        self._config_given = cfg
        self._errors: list[Exception] = []

    __init__.__signature__ = options.signature()  # type: ignore[attr-defined]

    # --- configuration --------------------------------------------------------------

    @property
    def policy(self) -> str:
        """The placement policy ("first", "best", … heapviz.options)."""
        return str(self._config_given["policy"])

    @property
    def order(self) -> str:
        """The free-list order of the fit policies."""
        return str(self._config_given["order"])

    @property
    def coalesce(self) -> str:
        """When free blocks merge: "immediate", "deferred" or "none"."""
        return str(self._config_given["coalesce"])

    @property
    def align(self) -> int:
        """The payload alignment in bytes."""
        return int(self._config_given["align"])

    @property
    def config(self) -> dict[str, Any]:
        """The options this heap was made with (heapviz.options), checks as it is now."""
        return {**self._config_given, "checks": self.checks}

    @property
    def checks(self) -> str:
        """The error-checking mode: "strict", "report" or "off"."""
        return options.CHECKS[self._checks]

    @checks.setter
    def checks(self, mode: str) -> None:
        self._checks = options.checks_index(mode)

    @property
    def layout(self) -> dict[str, int]:
        """Header, footer and minimum block sizes, alignment, and the address ranges."""
        return dict(self._layout())

    @property
    def header_size(self) -> int:
        return int(self._layout()["header_size"])

    # --- the memory API beyond the C calls --------------------------------------------

    def strdup(self, s: str | bytes | _core.Pointer) -> _core.Pointer:
        """A heap copy of a C string (with its NUL), as strdup() does."""
        if isinstance(s, _core.Pointer):
            data = s.string().encode()
        elif isinstance(s, str):
            data = s.encode()
        elif isinstance(s, bytes | bytearray):
            data = bytes(s)
        else:
            raise TypeError(f"strdup() takes a str, bytes or Pointer, not {type(s).__name__}")
        p = self.malloc(len(data) + 1)
        if p:
            p.write(data + b"\0")
        return p

    def frame(self, name: str = "main") -> Frame:
        """`with h.frame("main") as f:` — a stack frame whose memory dies at the end."""
        if not isinstance(name, str):
            raise TypeError("frame() takes a function name (str)")
        return Frame(self, name)

    # --- introspection --------------------------------------------------------------

    def blocks(self) -> list[Block]:
        """Every block in address order (heap, then mmapped chunks, then the stack)."""
        return [block_from_tuple(self, t) for t in self._blocks()]

    def free_list(self, list: int | None = None) -> list[Block]:
        """The free blocks in list order; for segregated/buddy, all lists in class order
        (or only list `list`)."""
        if list is not None:
            return [block_from_tuple(self, t) for t in self._free_list(list)]
        out: list[Block] = []
        for i in range(len(self._free_lists())):
            out.extend(block_from_tuple(self, t) for t in self._free_list(i))
        return out

    def free_lists(self) -> list[tuple[tuple[int, int], list[Block]]]:
        """Each free list with its size range [lo, hi] (one list for the fit policies)."""
        return [((lo, hi), [block_from_tuple(self, t) for t in self._free_list(i)])
                for i, (lo, hi) in enumerate(self._free_lists())]

    def stats(self) -> Stats:
        return Stats(**self._stats())

    @property
    def events(self) -> EventLog:
        """The recorded events, read lazily."""
        return EventLog(self)

    def errors(self) -> list[Exception]:
        """Every memory error recorded so far (raised or only reported)."""
        return list(self._errors)

    def block_of(self, p: _core.Pointer | int) -> Block | None:
        """The block containing an address, if any."""
        t = self._block(int(p), True)
        return block_from_tuple(self, t) if t else None

    def leaks(self) -> list[Any]:
        """Blocks no one can free any more, classified as valgrind does."""
        from heapviz.leaks import find_leaks

        return find_leaks(self)

    def note(self, text: str) -> None:
        """Put a note into the event log (drawn in the viewer's log)."""
        site = self._intern(str(text), 0, "note")
        self._record(_core.EV_NOTE, 0, 0, site, 0, self._site(), 0)

    # --- drawing (heapviz.render / heapviz.viewer) ------------------------------------

    def render(self, path: str | None = None, width: int = 1200, **opts: Any) -> bytes:
        """A PNG picture of the heap now (written to path when given)."""
        from heapviz import render

        return render.render_png(self, path=path, width=width, **opts)

    def render_timeline(self, path: str, **opts: Any) -> int:
        """An animated GIF or APNG of the recorded history, one frame per operation;
        returns the number of frames."""
        from heapviz import render

        return render.render_timeline(self, path, **opts)

    def show(self, step: bool = False, **opts: Any) -> Any:
        """Open the live SDL2 window; it follows every later operation.  With step=True
        the script pauses after each operation until you press a key in the window."""
        from heapviz import viewer

        return viewer.show(self, step=step, **opts)

    def watch(self) -> Any:
        """A live widget under the notebook cell that follows later operations."""
        from heapviz import display

        return display.watch(self)

    def snapshot(self) -> Any:
        """A frozen picture of the heap now, shown inline by Jupyter."""
        from heapviz import display

        return display.snapshot(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from heapviz import display

        return display.mimebundle(self, include, exclude)

    # --- recordings (heapviz.recording) -----------------------------------------------

    def save(self, path: str) -> None:
        """Write the recorded history as a .hvlog recording (heapviz.load reads it)."""
        from heapviz import recording

        recording.save(self, path)

    # --- lifetime -------------------------------------------------------------------

    def close(self) -> None:
        """Print a LEAK SUMMARY if anything leaked, then give the arena back."""
        if not self.closed:
            from heapviz.leaks import leak_summary

            text = leak_summary(self, only_if_leaked=True)
            if text:
                print(text, file=sys.stderr)
        super().close()

    def __enter__(self) -> Heap:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return "<heapviz.Heap closed>"
        s = self.stats()
        return (f"<heapviz.Heap policy={self.policy} heap={s.heap_size} B in_use={s.in_use} B "
                f"free={s.free_bytes} B blocks={s.alloc_blocks}+{s.free_blocks} free>")


# CPython's fast call of a C method needs the method to belong to self's own type:
# give Heap its own copies of the C methods it inherits (see heapobj.c).
_core._own_methods(Heap)
