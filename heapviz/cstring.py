"""C's string and memory helpers, acting on Pointers as C's do.

A source may also be a Python str (encoded as UTF-8) or bytes.  Copies go byte by byte
through the pointer's checks, so a strcpy one byte too long is reported exactly where C
would write it: "0 bytes after a block of size N".
"""

from __future__ import annotations

from heapviz import _core
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


def strlen(s: Source) -> int:
    """The number of bytes before the terminating NUL."""
    return len(_bytes_of(s, "strlen"))


def strcpy(dst: Pointer, src: Source) -> Pointer:
    """Copy the string and its NUL into dst (which must have strlen(src) + 1 bytes)."""
    d = _dst(dst, "strcpy").cast("unsigned char")
    for i, byte in enumerate(_bytes_of(src, "strcpy") + b"\0"):
        d[i] = byte
    return dst


def strncpy(dst: Pointer, src: Source, n: int) -> Pointer:
    """Copy at most n bytes; pads with NULs; no NUL is added if src is n bytes or longer."""
    data = _bytes_of(src, "strncpy")[:n]
    d = _dst(dst, "strncpy").cast("unsigned char")
    for i in range(n):
        d[i] = data[i] if i < len(data) else 0
    return dst


def strcat(dst: Pointer, src: Source) -> Pointer:
    """Append src (and a NUL) after the string in dst."""
    start = strlen(_dst(dst, "strcat"))
    strcpy(dst + start, src)
    return dst


def memcpy(dst: Pointer, src: Source, n: int) -> Pointer:
    """Copy n bytes from src to dst; the regions must not overlap."""
    if isinstance(src, Pointer):
        return _core.memcpy(dst, src, n)
    data = src.encode() if isinstance(src, str) else bytes(src)
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"memcpy(): n must be an int, not {type(n).__name__}")
    if n < 0:
        raise ValueError(f"memcpy(): n = {n} is negative")
    if n > len(data):
        raise ValueError(f"memcpy(): n = {n} but the source has only {len(data)} bytes")
    _dst(dst, "memcpy")[0:n] = data[:n]
    return dst


def memset(dst: Pointer, c: int, n: int) -> Pointer:
    """Fill n bytes at dst with the byte c."""
    return _core.memset(dst, c, n)
