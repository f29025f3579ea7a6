"""The heap model: heapviz.Heap without its views.

The hot calls (malloc, free, calloc, realloc, and every byte access through a Pointer) are
implemented in C by `heapviz._core.Heap`; `HeapModel` adds the friendly parts: its options
(heapviz.options: checked, with messages that name the allowed values), records (Block,
Stats, Event), the errors it saw, leaks, stack frames, notes and recorded writes, and its
recording (heapviz.hvlog).  It knows nothing of pictures: the views (heapviz.render,
viewer, jupyter, watch, hooks) are mixins that heapviz.heap composes with it into
heapviz.Heap, and modules that only depend on what is here.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from typing import Any, overload

from heapviz import _core, errors, hvlog, leaks, options, sizes
from heapviz.records import Block, Event, Leak, Site, Stats, site_of
from heapviz.records import block_from_tuple as block_from_tuple  # re-exported (heap.py)

# The option names and values, for whoever imported them from here (heapviz.options).
POLICIES, ORDERS, COALESCE, CHECKS, ALIGNS = (
    options.POLICIES, options.ORDERS, options.COALESCE, options.CHECKS, options.ALIGNS)


def _site(heap: Any, site_id: int) -> Site | None:
    return site_of(heap, site_id)


class EventLog(Sequence[Event]):
    """The recorded history, read lazily from the core (no Python objects are kept).

    Indexes are event sequence numbers.  When the history limit dropped old events,
    `truncated` is True and `first` tells where the history now starts.
    """

    def __init__(self, heap: HeapModel) -> None:
        self._heap = heap

    @property
    def first(self) -> int:
        return int(self._heap._history()[0])

    @property
    def truncated(self) -> bool:
        return self.first > 0

    def __len__(self) -> int:
        return int(self._heap._history()[1])

    @overload
    def __getitem__(self, i: int) -> Event: ...
    @overload
    def __getitem__(self, i: slice) -> list[Event]: ...

    def __getitem__(self, i: int | slice) -> Event | list[Event]:
        first, count = self._heap._history()
        if isinstance(i, slice):
            lo, hi, step = i.indices(count)
            lo = max(lo, first)
            return self._heap._event_records(lo, hi)[::step]  # type: ignore[no-any-return]
        if i < 0:
            i += count
        if not first <= i < count:
            if 0 <= i < first:
                raise IndexError(f"event {i} was dropped: the history keeps the last "
                                 f"{count - first} events (Heap(history_limit=…))")
            raise IndexError(f"no event {i}: {count} recorded")
        e = self._heap._event_record(i)
        assert e is not None
        return e  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[Event]:
        first, count = self._heap._history()
        for lo in range(first, count, 4096):
            yield from self._heap._event_records(lo, min(count, lo + 4096))

    def __repr__(self) -> str:
        first, count = self._heap._history()
        note = f", oldest {first} dropped (history limit)" if first else ""
        return f"<EventLog {count - first} events{note}>"


class Frame:
    """A stack frame of the simulated stack: automatic memory that dies with the frame.

    A context manager: `with h.frame("main") as f:` pushes it, the end of the block pops
    it (and every object in it dies: later use is a UseAfterReturn)."""

    def __init__(self, heap: HeapModel, name: str) -> None:
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


class HeapModel(_core.Heap):
    """A heap over an mmap-backed arena; every operation is recorded (heapviz.Heap adds
    the pictures).

    >>> h = HeapModel()
    >>> p = h.malloc(16)
    >>> hex(p)
    '0x10010'
    """

    _config_given: dict[str, Any]
    error_log: errors.ErrorLog  # the errors it saw (raised or reported)
    write_data: dict[int, bytes]  # write event seq -> the bytes written (recordings)
    _final_leaks: list[Leak]  # what close() found
    _held: list[object]  # kept alive with the heap (hold())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cfg = options.bind(args, kwargs)
        super().__init__(**options.core_kwargs(cfg))
        self._config_given = cfg
        self.error_log = errors.ErrorLog()
        self.write_data = {}
        self._final_leaks = []
        self._held = []

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
        return self._block_records()  # type: ignore[no-any-return]

    def free_list(self, list: int | None = None) -> list[Block]:
        """The free blocks in list order; for segregated/buddy, all lists in class order
        (or only list `list`)."""
        if list is not None:
            return self._free_list_records(list)  # type: ignore[no-any-return]
        out: list[Block] = []
        for i in range(len(self._free_lists())):
            out.extend(self._free_list_records(i))
        return out

    def free_lists(self) -> list[tuple[tuple[int, int], list[Block]]]:
        """Each free list with its size range [lo, hi] (one list for the fit policies)."""
        return [((lo, hi), self._free_list_records(i))
                for i, (lo, hi) in enumerate(self._free_lists())]

    def stats(self) -> Stats:
        return Stats(**self._stats())

    @property
    def events(self) -> EventLog:
        """The recorded events, read lazily."""
        return EventLog(self)

    def errors(self) -> list[errors.HeapError]:
        """Every memory error recorded so far (raised or only reported)."""
        return list(self.error_log.errors)

    def block_of(self, p: _core.Pointer | int) -> Block | None:
        """The block containing an address, if any."""
        return self._block_record(int(p), True)  # type: ignore[no-any-return]

    def leaks(self) -> list[Leak]:
        """Blocks no one can free any more, classified as valgrind does (after close(),
        what close() found)."""
        return list(self._final_leaks) if self.closed else leaks.find_leaks(self)

    def note(self, text: str) -> None:
        """Put a note into the event log (drawn in the viewer's log)."""
        site = self._intern(str(text), 0, "note")
        self._record(_core.EV_NOTE, 0, 0, site, 0, self._site(), 0)

    def record_write(self, p: _core.Pointer | int, n: int) -> None:
        """Record that n bytes were written at p (a write is not one of the binding's
        events): pictures of past steps mark them initialized, and recordings keep the
        bytes (up to 1 MiB a write)."""
        if n <= 0 or self.closed:
            return
        seq = self._record(_core.EV_WRITE, int(p), n, 0, 0, self._site(), 0)
        if seq != (1 << 64) - 1 and n <= 1 << 20:
            with contextlib.suppress(Exception):
                self.write_data[seq] = bytes(self._raw_read(int(p), n))

    def hold(self, obj: object) -> None:
        """Keep obj alive as long as the heap: the Pointers that code made for it (a
        replay's, a trace run's, a scenario's variables), whose death would record their
        blocks as lost."""
        self._held.append(obj)

    # --- recordings (heapviz.hvlog, heapviz.recording) ---------------------------------

    def save(self, path: str) -> None:
        """Write the recorded history as a .hvlog recording (heapviz.load reads it)."""
        hvlog.save(self, path)

    # --- lifetime -------------------------------------------------------------------

    def close(self) -> None:
        """Print a LEAK SUMMARY if anything leaked, then give the arena back."""
        if not self.closed:
            self._final_leaks, text = leaks.scan_at_exit(self)
            if text:
                print(text, file=sys.stderr)
        super().close()
        self._held.clear()  # after close: a Pointer dying now records no loss

    def __enter__(self) -> HeapModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return "<heapviz.Heap closed>"
        s = self.stats()
        return (f"<heapviz.Heap policy={self.policy} heap={s.heap_size} B in_use={s.in_use} B "
                f"free={s.free_bytes} B blocks={s.alloc_blocks}+{s.free_blocks} free>")

