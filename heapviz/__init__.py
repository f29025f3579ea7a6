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

from heapviz import _core, error_hook
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
from heapviz.recording import load as _load_recording
from heapviz.records import Block, Event, Leak, Site, Stats
from heapviz.version import __version__

_core._set_hooks(_memory_error, SegmentationFault, os.path.dirname(os.path.abspath(__file__)))

if "IPython" in sys.modules:  # in a notebook, a HeapError also shows its heap
    error_hook.install()


def load(path: str) -> Recording:
    """Read a .hvlog recording made by Heap.save(); see heapviz.recording."""
    return _load_recording(path)


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
    "__version__",
    "load",
    "memcpy",
    "memset",
    "sizeof",
    "strcat",
    "strcpy",
    "strlen",
    "strncpy",
]
