"""Sizes and counts: one rule for the memory API's arguments, one parser for sizes as text.

The rule (the binding's ``size_arg`` in C applies the same one to malloc, calloc, realloc and
mmap; ``size_arg`` here applies it to memcpy, memset, strncpy and the frame arrays):

* a size or count is an ``int`` (``bool`` is not one): anything else is a ``TypeError``;
* 0 to 2**63 - 1 is taken as it is;
* a negative number is what C's ``size_t`` makes of it, a huge number: valgrind calls that a
  *fishy value*, and so does heapviz — ``FishyValue`` is raised (``checks="strict"``) or
  reported, and the call does nothing (C would run off the end of memory); so is a number of
  2**63 or more, which only a negative number turned into a ``size_t`` could be;
* a number beyond 64 bits is an ``OverflowError`` (no ``size_t`` holds it).

So ``h.malloc(-1)`` and ``heapviz.memcpy(d, s, -1)`` are both a ``FishyValue``:

    >>> import heapviz
    >>> h = heapviz.Heap()
    >>> d, s = h.malloc(8), h.malloc(8)
    >>> try:
    ...     heapviz.memcpy(d, s, -1)
    ... except heapviz.FishyValue as e:
    ...     print(str(e).splitlines()[0])
    Argument 'n' of function memcpy has a fishy (possibly negative) value: -1

Sizes written as text (the command line, scenario files) are ``parse_size``'s: ``4096``,
``0x1000``, ``4K``, ``4KiB``, ``1M``, ``2MiB``.
"""

from __future__ import annotations

import re
from typing import Any

from heapviz import _core, errors

SIZE_T = 1 << 64

_UNITS = {"": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024**2, "mb": 1024**2,
          "mib": 1024**2, "g": 1024**3, "gb": 1024**3, "gib": 1024**3}
_SIZE = re.compile(r"(0[xX][0-9a-fA-F_]+|[0-9][0-9_]*)([A-Za-z]*)\Z")
BIG = 1 << 128  # numbers written beyond this are certainly a mistake (and would be slow)


def size_arg(value: Any, fn: str, name: str, heap: Any = None) -> int | None:
    """`value` as a size_t argument `name` of `fn` (see the module's rule): the size, or
    None when it is fishy and the call must do nothing (after the report; in strict mode
    FishyValue is raised instead)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{fn}(): {name} must be an int, not {type(value).__name__}")
    if 0 <= value < SIZE_T >> 1:
        return value
    if not -(SIZE_T >> 1) <= value < SIZE_T:
        raise OverflowError(f"{fn}(): {name} = {value} does not fit in a 64-bit size_t")
    err = errors._memory_error(heap, _core.ERR_FISHY, 0, value % SIZE_T, 0, None, (fn, name))
    if err is not None:
        raise err
    return None


def parse_size(text: str) -> int:
    """`4096`, `0x1000`, `4K`, `4KiB`, `1M`, `2MiB` -> bytes (ValueError otherwise)."""
    m = _SIZE.match(text.strip())
    unit = m.group(2).lower() if m else ""
    if m is None or unit not in _UNITS:
        raise ValueError(f"{text!r} is not a size (examples: 4096, 0x1000, 4K, 2MiB)")
    digits = m.group(1).replace("_", "")
    value = int(digits, 16 if digits[:2].lower() == "0x" else 10) * _UNITS[unit]
    if value >= BIG:
        raise ValueError(f"{text!r} is far too large")
    return value


def has_unit(text: str) -> bool:
    """Whether text is written as a size (digits and a known unit), even one too large."""
    m = _SIZE.match(text)
    return bool(m and m.group(2).lower() in _UNITS)
