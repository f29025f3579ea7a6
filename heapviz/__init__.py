"""heapviz — watch a heap allocator at work.

    >>> import heapviz
    >>> h = heapviz.Heap()
    >>> p = h.malloc(16)

Every malloc, free, calloc and realloc, every split, coalesce and heap growth, and every
memory error is recorded, and can be drawn (h.show(), h.render(), notebooks).
"""

from __future__ import annotations

import os
import sys

from heapviz import _core
from heapviz._core import NULL, Pointer, sizeof
from heapviz.cstring import memcpy, memset, strcat, strcpy, strlen, strncpy
from heapviz.errors import (
    BufferOverflow,
    DoubleFree,
    FishyValue,
    HeapCorruption,
    HeapError,
    InvalidFree,
    OverlappingCopy,
    SegmentationFault,
    UninitializedRead,
    UseAfterFree,
    UseAfterReturn,
    _memory_error,
)
from heapviz.heap import Heap
from heapviz.recording import Recording, RecordingError
from heapviz.records import Block, Event, Leak, Site, Stats

_core._set_hooks(_memory_error, SegmentationFault, os.path.dirname(os.path.abspath(__file__)))

__version__ = "0.1.0"

if "IPython" in sys.modules:  # in a notebook, a HeapError also shows its heap
    from heapviz import display as _display

    _display.install()


def load(path: str) -> Recording:
    """Read a .hvlog recording made by Heap.save(); see heapviz.recording."""
    from heapviz import recording

    return recording.load(path)


__all__ = [
    "NULL",
    "Block",
    "BufferOverflow",
    "DoubleFree",
    "Event",
    "FishyValue",
    "Heap",
    "HeapCorruption",
    "HeapError",
    "InvalidFree",
    "Leak",
    "OverlappingCopy",
    "Pointer",
    "Recording",
    "RecordingError",
    "SegmentationFault",
    "Site",
    "Stats",
    "UninitializedRead",
    "UseAfterFree",
    "UseAfterReturn",
    "load",
    "memcpy",
    "memset",
    "sizeof",
    "strcat",
    "strcpy",
    "strlen",
    "strncpy",
]
