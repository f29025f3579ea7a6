"""What the launcher needs to know about an executable before running it.

Only the ELF file and program headers and the dynamic section are read (no debug
information): is it an ELF executable, is it dynamically linked (an interpreter, so that
LD_PRELOAD reaches it), which libraries it needs (a `heapviz cc` program needs
libheapviz_rt.so and so brings the runtime itself), is it setuid.
"""

from __future__ import annotations

import os
import stat
import struct
from dataclasses import dataclass, field

PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
DT_NULL, DT_NEEDED, DT_STRTAB = 0, 1, 5


@dataclass
class Executable:
    """The facts of one executable file."""

    path: str
    elf: bool = False
    dynamic: bool = False  # has an interpreter (ld.so): LD_PRELOAD works
    setuid: bool = False
    needed: list[str] = field(default_factory=list)

    @property
    def heapviz_cc(self) -> bool:
        """Built by `heapviz cc`: the runtime is linked in."""
        return any(n.startswith("libheapviz_rt") for n in self.needed)


def _segments(data: bytes) -> list[tuple[int, int, int, int, int]]:
    """(type, offset, vaddr, filesz, memsz) of each program header (ELF64, little endian)."""
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    out = []
    for i in range(phnum):
        at = phoff + i * phentsize
        if at + 56 > len(data):
            break
        ptype, _flags, off, vaddr, _paddr, filesz, memsz = struct.unpack_from("<IIQQQQQ", data,
                                                                               at)
        out.append((ptype, off, vaddr, filesz, memsz))
    return out


def _offset_of(segments: list[tuple[int, int, int, int, int]], vaddr: int) -> int | None:
    for ptype, off, va, filesz, _memsz in segments:
        if ptype == PT_LOAD and va <= vaddr < va + filesz:
            return off + vaddr - va
    return None


def _needed(data: bytes, segments: list[tuple[int, int, int, int, int]]) -> list[str]:
    dyn = next((s for s in segments if s[0] == PT_DYNAMIC), None)
    if dyn is None:
        return []
    entries = []
    for at in range(dyn[1], dyn[1] + dyn[3] - 15, 16):
        tag, val = struct.unpack_from("<qQ", data, at)
        if tag == DT_NULL:
            break
        entries.append((tag, val))
    strtab = next((v for t, v in entries if t == DT_STRTAB), None)
    base = _offset_of(segments, strtab) if strtab is not None else None
    if base is None:
        return []
    names = []
    for tag, val in entries:
        if tag == DT_NEEDED:
            end = data.find(b"\0", base + val)
            names.append(data[base + val:end].decode(errors="replace"))
    return names


def inspect(path: str) -> Executable:
    """Read what matters of `path` (an Executable with elf=False for anything else)."""
    ex = Executable(path)
    try:
        st = os.stat(path)
        with open(path, "rb") as f:
            data = f.read(min(st.st_size, 64 << 20))
    except OSError:
        return ex
    ex.setuid = bool(st.st_mode & (stat.S_ISUID | stat.S_ISGID))
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return ex
    ex.elf = True
    try:
        segments = _segments(data)
        ex.dynamic = any(s[0] == PT_INTERP for s in segments)
        ex.needed = _needed(data, segments)
    except struct.error:
        ex.dynamic = False
    return ex
