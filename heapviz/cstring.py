"""C's string and memory helpers, acting on Pointers as C's do.

A source may also be a Python str (encoded as UTF-8) or bytes.  Every byte goes through
the pointer's checks.  Reports follow valgrind's replacements of these functions, which
copy byte by byte: a strcpy one byte too long is "Invalid write of size 1" at its first
bad byte, "0 bytes after a block of size N".  In checks="strict" the copy is checked as a
whole before any byte is written, so a faulting call leaves the heap as it was; in
"report" it runs to the end as in C.  strcpy, strncpy and strcat between overlapping
strings are reported as valgrind reports them ("Source and destination overlap in
strcpy(dst, src)").
"""

from __future__ import annotations

from heapviz import _core, errors, sizes
from heapviz._core import Pointer

Source = Pointer | str | bytes | bytearray


def _bytes_of(src: Source, fn: str) -> bytes:
    if isinstance(src, Pointer):
        return src.string().encode("utf-8", "surrogateescape")
    if isinstance(src, str):
        return src.encode()
    if isinstance(src, bytes | bytearray):
        data = bytes(src)
        nul = data.find(b"\0")
        return data if nul < 0 else data[:nul]
    raise TypeError(f"{fn}(): the source must be a Pointer, str or bytes, not "
                    f"{type(src).__name__}")


def _dst(dst: object, fn: str) -> Pointer:
    if not isinstance(dst, Pointer):
        raise TypeError(f"{fn}(): the destination must be a Pointer, not {type(dst).__name__}")
    return dst


def _overlap(fn: str, dst: Pointer, src: Source, n_dst: int, n_src: int) -> None:
    """Report a copy between overlapping strings, as valgrind does."""
    if not isinstance(src, Pointer) or n_dst <= 0 or n_src <= 0:
        return
    d, s = int(dst), int(src)
    if d < s + n_src and s < d + n_dst:
        err = errors._memory_error(dst.heap, _core.ERR_OVERLAP, d, n_dst, 1, dst,
                                   (fn, s))
        if err is not None:
            raise err


def _store(dst: Pointer, data: bytes) -> None:
    """Write data at dst as C's byte loop would (reports name the first bad byte and a
    size of 1), checked as a whole first."""
    if data:
        with errors.bytewise():
            dst.cast("unsigned char")[0:len(data)] = data


def strlen(s: Source) -> int:
    """The number of bytes before the terminating NUL."""
    return len(_bytes_of(s, "strlen"))


def strcpy(dst: Pointer, src: Source) -> Pointer:
    """Copy the string and its NUL into dst (which must have strlen(src) + 1 bytes)."""
    d = _dst(dst, "strcpy")
    data = _bytes_of(src, "strcpy") + b"\0"
    _overlap("strcpy", d, src, len(data), len(data))
    _store(d, data)
    return dst


def strncpy(dst: Pointer, src: Source, n: int) -> Pointer:
    """Copy at most n bytes; pads with NULs; no NUL is added if src is n bytes or longer."""
    d = _dst(dst, "strncpy")
    n = sizes.size_arg(n, "strncpy", "n", d.heap)
    if n is None:
        return dst
    text = _bytes_of(src, "strncpy")
    data = text[:n]
    _overlap("strncpy", d, src, n, min(n, len(text) + 1))
    _store(d, data + b"\0" * (n - len(data)))
    return dst


def strcat(dst: Pointer, src: Source) -> Pointer:
    """Append src (and a NUL) after the string in dst."""
    d = _dst(dst, "strcat")
    start = strlen(d)
    data = _bytes_of(src, "strcat") + b"\0"
    _overlap("strcat", d, src, start + len(data), len(data))
    _store(d + start, data)
    return dst


def memcpy(dst: Pointer, src: Source, n: int) -> Pointer:
    """Copy n bytes from src to dst; the regions must not overlap.  A negative n is a
    FishyValue, as for malloc (heapviz.sizes)."""
    count = sizes.size_arg(n, "memcpy", "n", _dst(dst, "memcpy").heap)
    if count is None:
        return dst
    if isinstance(src, Pointer):
        return _core.memcpy(dst, src, count)
    if not isinstance(src, str | bytes | bytearray):
        raise TypeError(f"memcpy(): the source must be a Pointer, str or bytes, not "
                        f"{type(src).__name__}")
    data = src.encode() if isinstance(src, str) else bytes(src)
    n = count
    if n > len(data):
        raise ValueError(f"memcpy(): n = {n} but the source has only {len(data)} bytes")
    _dst(dst, "memcpy")[0:n] = data[:n]
    return dst


def memset(dst: Pointer, c: int, n: int) -> Pointer:
    """Fill n bytes at dst with the byte c.  A negative n is a FishyValue, as for malloc
    (heapviz.sizes)."""
    count = sizes.size_arg(n, "memset", "n", _dst(dst, "memset").heap)
    if count is None:
        return dst
    return _core.memset(dst, c, count)
