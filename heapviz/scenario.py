"""Run a scenario file, a Python script or a recording, with pictures, a GIF or a recording.

    python -m heapviz run lesson.hv --policy best --png steps/ --gif run.gif
    python -m heapviz run lesson.py --record run.hvlog
    python -m heapviz run lesson.hv --view --step

A scenario file is heapviz's own small text format (docs/scenarios.md), one step a line:

    # a comment
    heap policy=first size=4K align=16
    p = malloc 100
    q = calloc 10 4
    write p "hello"
    p = realloc p 200
    free q
    expect DoubleFree
    free q

`expect NAME` says which error the next step must raise (BufferOverflow, DoubleFree, …, or
NULL for an allocation that must fail, Leak for a step that loses the last pointer to a block).
A step that raises the expected error passes; an unexpected error, or an expected one that
does not happen, stops the run with a message naming the line (exit status 1).

A Python script runs with `heap` (and `h`) bound to a Heap built from the options; a script
may also make its own `heapviz.Heap(...)`: the options given on the command line apply to it
too, and its pictures and recording are written before it is closed.

The parts, for other modules: `parse(text, path)` -> Scenario (ScenarioError on bad input),
`Runner(scenario, heap)` runs it step by step, `heap_from_file(path)` -> a live Heap after
running a scenario, a script or a recording (for `python -m heapviz view`).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import inspect
import math
import os
import re
import runpy
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType
from typing import Any, TextIO

import heapviz
from heapviz import _core
from heapviz.heap import ALIGNS, CHECKS, COALESCE, ORDERS, POLICIES
from heapviz.native import launch as native

# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class ScenarioError(ValueError):
    """A malformed scenario: `path`, `line` (1-based, 0 for the whole file), `reason`."""

    def __init__(self, path: str, line: int, reason: str, source: str | None = None) -> None:
        self.path, self.line, self.reason, self.source = path, line, reason, source
        where = f"{path}:{line}" if line else path
        text = f"{where}: {reason}"
        if source is not None and source.strip():
            shown = source.strip()
            text += "\n    " + (shown if len(shown) <= 100 else shown[:100] + "…")
        super().__init__(text)


# --------------------------------------------------------------------------------------------
# Sizes and heap options (shared by run, compare and the demo)
# --------------------------------------------------------------------------------------------

_UNITS = {"": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024**2, "mb": 1024**2,
          "mib": 1024**2, "g": 1024**3, "gb": 1024**3, "gib": 1024**3}
_SIZE = re.compile(r"(0[xX][0-9a-fA-F_]+|[0-9][0-9_]*)([A-Za-z]*)\Z")
_BIG = 1 << 128  # numbers beyond this are certainly a mistake (and would be slow)


def parse_size(text: str) -> int:
    """`4096`, `0x1000`, `4K`, `4KiB`, `1M`, `2MiB` -> bytes (ValueError otherwise)."""
    m = _SIZE.match(text.strip())
    unit = m.group(2).lower() if m else ""
    if m is None or unit not in _UNITS:
        raise ValueError(f"{text!r} is not a size (examples: 4096, 0x1000, 4K, 2MiB)")
    digits = m.group(1).replace("_", "")
    value = int(digits, 16 if digits[:2].lower() == "0x" else 10) * _UNITS[unit]
    if value >= _BIG:
        raise ValueError(f"{text!r} is far too large")
    return value


# The Heap options a scenario header, a command line or compare may set, with their parsers.
_BOOL = {"true": True, "yes": True, "on": True, "1": True,
         "false": False, "no": False, "off": False, "0": False}


def _choice_of(name: str, allowed: tuple[Any, ...]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        for a in allowed:
            if text == str(a):
                return a
        raise ValueError(f"{name} must be one of {', '.join(map(str, allowed))}, not {text!r}")

    return parse


def _bool(text: str) -> bool:
    if text.lower() not in _BOOL:
        raise ValueError(f"{text!r} is not true or false")
    return _BOOL[text.lower()]


HEAP_OPTIONS: dict[str, Callable[[str], Any]] = {
    "policy": _choice_of("policy", POLICIES),
    "order": _choice_of("order", ORDERS),
    "coalesce": _choice_of("coalesce", COALESCE),
    "align": _choice_of("align", ALIGNS),
    "checks": _choice_of("checks", CHECKS),
    "size": parse_size,
    "max_size": parse_size,
    "base": parse_size,
    "mmap_threshold": parse_size,
    "split_threshold": parse_size,
    "footer": _bool,
    "magic": _bool,
}


def add_heap_options(parser: argparse.ArgumentParser, policy: bool = True) -> None:
    """The Heap options as command-line flags (default: what the file says, else Heap's)."""
    g = parser.add_argument_group("heap options (override the file's own)")
    if policy:
        g.add_argument("--policy", choices=POLICIES, help="placement policy")
    g.add_argument("--order", choices=ORDERS, help="free-list order")
    g.add_argument("--coalesce", choices=COALESCE, help="when free blocks merge")
    g.add_argument("--align", type=int, choices=ALIGNS, help="payload alignment")
    g.add_argument("--size", type=parse_size, metavar="BYTES", help="initial heap (4K, 8192…)")
    g.add_argument("--max-size", type=parse_size, metavar="BYTES",
                   help="reservation the heap may grow to")
    g.add_argument("--base", type=parse_size, metavar="ADDR", help="address of the heap start")
    g.add_argument("--mmap-threshold", type=parse_size, metavar="BYTES",
                   help="requests this large get their own mapping (0: never)")
    g.add_argument("--split-threshold", type=parse_size, metavar="BYTES",
                   help="do not split off a remainder smaller than this")
    g.add_argument("--checks", choices=CHECKS,
                   help="strict: errors raise; report: reported, the run goes on; off")
    g.add_argument("--footer", action=argparse.BooleanOptionalAction, default=None,
                   help="a boundary tag (footer) on every block")
    g.add_argument("--magic", action=argparse.BooleanOptionalAction, default=None,
                   help="a magic number in every header")


def heap_options(args: argparse.Namespace, policy: bool = True) -> dict[str, Any]:
    """The Heap options given on the command line (those left out are not in the dict)."""
    out: dict[str, Any] = {}
    for name in HEAP_OPTIONS:
        if name == "policy" and not policy:
            continue
        value = getattr(args, name, None)
        if value is not None:
            out[name] = value
    return out


def make_heap(options: dict[str, Any], where: str = "heap") -> heapviz.Heap:
    """heapviz.Heap(**options), its ValueError/TypeError turned into a ScenarioError."""
    try:
        h = heapviz.Heap(**options)
    except (ValueError, TypeError, OverflowError, OSError, MemoryError) as e:
        raise ScenarioError(where, 0, f"cannot make the heap: {e}") from None
    h.__dict__["_heapviz_config"] = dict(options)
    return h


# --------------------------------------------------------------------------------------------
# The scenario format: tokens
# --------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""[ \t\r\f\v]*(?:
      (?P<str>"(?:[^"\\\n]|\\.)*")
    | (?P<num>[0-9][0-9A-Za-z_.]*)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>[=\[\]+\-*():,])
    | (?P<comment>\#.*)
    | (?P<bad>.)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Tok:
    kind: str  # str, num, name, op
    text: str
    value: Any  # bytes for str, int/float for num, the text for name/op
    space: bool = False  # blank before it


_ESC = {"n": 10, "t": 9, "r": 13, "0": 0, "\\": 92, '"': 34, "'": 39, "a": 7, "b": 8,
        "f": 12, "v": 11, "e": 27}


def _unescape(body: str, err: Callable[[str], ScenarioError]) -> bytes:
    """The bytes of a string literal: UTF-8, with C's escapes (\\n \\t \\0 \\\\ \\" \\xHH)."""
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode("utf-8", "surrogatepass")
            i += 1
            continue
        e = body[i + 1] if i + 1 < len(body) else ""
        if e == "x":
            hexd = body[i + 2:i + 4]
            if len(hexd) != 2 or not all(ch in "0123456789abcdefABCDEF" for ch in hexd):
                raise err("\\x must be followed by two hex digits (\\x41)")
            out.append(int(hexd, 16))
            i += 4
        elif e in _ESC:
            out.append(_ESC[e])
            i += 2
        else:
            raise err(f"unknown escape \\{e} in a string (known: \\n \\t \\0 \\\\ \\\" \\xHH)")
    return bytes(out)


def _number(text: str, err: Callable[[str], ScenarioError]) -> int | float:
    try:
        return parse_size(text)
    except ValueError as e:
        m = _SIZE.match(text)
        if m and m.group(2).lower() in _UNITS:
            raise err(f"{text[:30]!r} is far too large") from None
        del e
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        raise err(f"{text[:30]!r} is not a number (examples: 100, 0x40, 4K, 2.5)") from None
    if not math.isfinite(value):
        raise err(f"{text[:30]!r} is not a finite number")
    return value


def tokenize(line: str, err: Callable[[str], ScenarioError]) -> list[Tok]:
    toks: list[Tok] = []
    pos = 0
    while pos < len(line):
        m = _TOKEN.match(line, pos)
        if m is None or m.end() == pos:  # only trailing blanks are left
            break
        space = m.start(m.lastgroup) > pos if m.lastgroup else False
        pos = m.end()
        kind = m.lastgroup
        text = m.group(kind) if kind else ""
        if kind == "comment" or kind is None:
            break
        if kind == "bad":
            if text == '"':
                raise err("this string is not closed: a \" is missing")
            if text.isspace():
                continue
            raise err(f"unexpected character {text!r}")
        if kind == "str":
            toks.append(Tok("str", text, _unescape(text[1:-1], err), space))
        elif kind == "num":
            toks.append(Tok("num", text, _number(text, err), space))
        else:
            toks.append(Tok(kind, text, text, space))
    return toks


# --------------------------------------------------------------------------------------------
# The scenario format: statements
# --------------------------------------------------------------------------------------------

ALLOCATORS = ("malloc", "calloc", "realloc", "strdup", "mmap", "local")
COMMANDS = ("heap", "free", "write", "read", "strcpy", "memset", "memcpy", "sbrk", "munmap",
            "note", "check", "expect", "enter", "leave")
RESERVED = frozenset((*ALLOCATORS, *COMMANDS, "NULL", "sizeof"))


def _error_classes() -> dict[str, type[heapviz.HeapError]]:
    from heapviz import errors

    out: dict[str, type[heapviz.HeapError]] = {}
    for name in dir(errors):
        obj = getattr(errors, name)
        if isinstance(obj, type) and issubclass(obj, errors.HeapError):
            out[name] = obj
    return out


ERRORS = _error_classes()
EXPECTABLE = (*sorted(ERRORS), "NULL", "Leak")


@dataclass(frozen=True)
class Ref:
    """A pointer expression: a variable (or a constant address), indexed and offset.

    `p` · `p[3]` (3 bytes on) · `p:int[3]` (the 4th int) · `p + 8` · `NULL` · `0x1234`."""

    name: str | None
    addr: int = 0
    ctype: str | None = None
    index: int = 0
    offset: int = 0

    def __str__(self) -> str:
        s = self.name if self.name is not None else ("NULL" if not self.addr else hex(self.addr))
        if self.ctype is not None:
            s += f":{self.ctype}[{self.index}]"
        elif self.index:
            s += f"[{self.index}]"
        if self.offset:
            s += f" {'+' if self.offset > 0 else '-'} {abs(self.offset)}"
        return s


@dataclass(frozen=True)
class Step:
    """One line of a scenario that acts on the heap.

    `op` is the command ("malloc", "free", "write", "assign", …), `target` the variable
    assigned (or None), `args` its operands (ints, bytes, Refs, value lists), `expect` the
    error this step must raise (an error class name, "NULL" or "Leak"), or None."""

    line: int
    text: str
    op: str
    target: str | None
    args: tuple[Any, ...]
    expect: str | None = None


@dataclass
class Scenario:
    path: str
    options: dict[str, Any] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    header_line: int = 0


class _Line:
    """The recursive-descent parser of one line's tokens."""

    MAX_DEPTH = 32

    def __init__(self, toks: list[Tok], err: Callable[[str], ScenarioError]) -> None:
        self.toks, self.i, self.err, self.depth = toks, 0, err, 0

    def peek(self, offset: int = 0) -> Tok | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def at(self, text: str) -> bool:
        t = self.peek()
        return t is not None and t.kind in ("op", "name") and t.text == text

    def take(self) -> Tok:
        t = self.peek()
        if t is None:
            raise self.err("the line ends too soon")
        self.i += 1
        return t

    def expect_op(self, text: str, what: str) -> None:
        t = self.peek()
        if t is None or t.kind != "op" or t.text != text:
            found = f"found {t.text[:20]!r}" if t else "the line ends"
            raise self.err(f"expected '{text}' {what}, but {found}")
        self.i += 1

    def done(self) -> bool:
        return self.i >= len(self.toks)

    def end(self, what: str) -> None:
        if not self.done():
            t = self.toks[self.i]
            raise self.err(f"unexpected {t.text[:20]!r} after {what}")

    # --- numbers: sums and products of numbers and sizeof(TYPE) -------------------------
    def integer(self, what: str) -> int:
        t = self.peek()
        if t is None:
            raise self.err(f"{what} is missing")
        v = self.sum(what)
        if isinstance(v, float):
            raise self.err(f"{what} must be a whole number, not {v}")
        return v

    def signed_argument(self) -> bool:
        """`10 -1` is two arguments (the second negative); `10 - 1` and `10-1` are one."""
        t, nxt = self.peek(), self.peek(1)
        return t is not None and nxt is not None and t.space and not nxt.space

    def sum(self, what: str) -> int | float:
        v = self.product(what)
        while (self.at("+") or self.at("-")) and not self.signed_argument():
            sign = 1 if self.take().text == "+" else -1
            v = self._checked(v + sign * self.product(what))
        return v

    def product(self, what: str) -> int | float:
        v = self.factor(what)
        while self.at("*"):
            self.take()
            v = self._checked(v * self.factor(what))
        return v

    def _checked(self, v: int | float) -> int | float:
        if abs(v) >= _BIG or (isinstance(v, float) and not math.isfinite(v)):
            raise self.err("this number is far too large")
        return v

    def factor(self, what: str) -> int | float:
        sign = 1
        while self.at("-") or self.at("+"):
            if self.take().text == "-":
                sign = -sign
        t = self.peek()
        if t is None:
            raise self.err(f"{what} is missing")
        if t.kind == "num":
            self.i += 1
            return sign * t.value  # type: ignore[no-any-return]
        if t.kind == "name" and t.text == "sizeof":
            self.i += 1
            return sign * self.sizeof()
        if t.kind == "op" and t.text == "(":
            self.i += 1
            self.depth += 1
            if self.depth > self.MAX_DEPTH:
                raise self.err("too many nested parentheses")
            v = self.sum(what)
            self.depth -= 1
            self.expect_op(")", f"to close the parenthesis in {what}")
            return sign * v
        raise self.err(f"{what} must be a number, not {t.text[:20]!r}")

    def sizeof(self) -> int:
        self.expect_op("(", "after sizeof")
        parts: list[str] = []
        while not self.at(")"):
            t = self.take()
            parts.append(t.text)
        self.take()
        ctype = _ctype_text(parts)
        try:
            return int(heapviz.sizeof(ctype))
        except (ValueError, TypeError, OverflowError) as e:
            raise self.err(f"sizeof({ctype}): {e}") from None

    # --- pointers -----------------------------------------------------------------------
    def atom(self, what: str) -> Ref:
        t = self.peek()
        if t is None:
            raise self.err(f"{what} is missing")
        if t.kind == "num":
            self.i += 1
            if not isinstance(t.value, int) or t.value >= 1 << 64:
                raise self.err(f"{t.text[:20]!r} is not an address")
            return Ref(None, t.value)
        if t.kind != "name":
            raise self.err(f"{what} must be a variable, NULL or an address, not {t.text[:20]!r}")
        self.i += 1
        if t.text == "NULL":
            return Ref(None, 0)
        if t.text in RESERVED:
            raise self.err(f"{t.text!r} is a command, not a variable ({what})")
        if self.at(":"):
            self.take()
            parts: list[str] = []
            while not self.at("["):
                tok = self.take()
                if (tok.kind == "op" and tok.text != "*") or tok.kind not in ("name", "op"):
                    raise self.err(f"expected a C type and [index] after '{t.text}:'")
                parts.append(tok.text)
            ctype = _ctype_text(parts)
            try:
                heapviz.sizeof(ctype)
            except (ValueError, TypeError, OverflowError) as e:
                raise self.err(f"{t.text}:{ctype}: {e}") from None
            self.take()
            index = self.integer("the index")
            self.expect_op("]", "after the index")
            return Ref(t.text, 0, ctype, index)
        if self.at("["):
            self.take()
            index = self.integer("the index")
            self.expect_op("]", "after the index")
            return Ref(t.text, 0, None, index)
        return Ref(t.text)

    def pointer(self, what: str) -> Ref:
        """An atom with `+ N` / `- N` (C's pointer arithmetic)."""
        ref = self.atom(what)
        offset = 0
        while (self.at("+") or self.at("-")) and not self.signed_argument():
            sign = 1 if self.take().text == "+" else -1
            offset = int(self._checked(offset + sign * self.integer("the offset")))
        if offset:
            if ref.name is None:
                return Ref(None, ref.addr + offset) if ref.addr + offset >= 0 else ref
            return Ref(ref.name, ref.addr, ref.ctype, ref.index, offset)
        return ref

    def string(self, what: str) -> bytes:
        t = self.peek()
        if t is None or t.kind != "str":
            found = repr(t.text[:20]) if t else "nothing"
            raise self.err(f"{what} must be a string in double quotes, not {found}")
        self.i += 1
        return t.value  # type: ignore[no-any-return]

    def name(self, what: str) -> str:
        t = self.peek()
        if t is None or t.kind != "name":
            raise self.err(f"{what} is missing")
        self.i += 1
        return t.text


def _ctype_text(parts: list[str]) -> str:
    text = " ".join(parts).replace(" *", "*").replace(" [ ", "[").replace(" ]", "]")
    return text.strip()


def _parse_header(p: _Line, err: Callable[[str], ScenarioError]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    while not p.done():
        key = p.name("an option name (policy=first)").replace("-", "_")
        if key not in HEAP_OPTIONS:
            raise err(f"unknown heap option {key!r} (known: {', '.join(HEAP_OPTIONS)})")
        p.expect_op("=", f"after {key}")
        parts: list[str] = []
        while not p.done() and not (p.peek(1) is not None and p.peek(1).text == "="  # type: ignore[union-attr]
                                    and parts):
            parts.append(p.take().text)
        if not parts:
            raise err(f"{key}= needs a value")
        try:
            options[key] = HEAP_OPTIONS[key]("".join(parts))
        except ValueError as e:
            raise err(f"{key}: {e}") from None
    return options


def _parse_statement(p: _Line, err: Callable[[str], ScenarioError], line: int, text: str,
                     expect: str | None) -> Step:
    first = p.peek()
    assert first is not None
    target: str | None = None
    if first.kind == "name" and p.peek(1) is not None and p.peek(1).text == "=":  # type: ignore[union-attr]
        target = first.text
        if target in RESERVED:
            raise err(f"{target!r} is a command, not a variable name")
        p.i += 2
        if p.done():
            raise err(f"{target} = what? (malloc N, calloc N SIZE, realloc P N, a pointer…)")
        t = p.peek()
        assert t is not None
        if t.kind != "name" or t.text not in ALLOCATORS:
            ref = p.pointer("the value")
            if not p.done() and t.kind == "name" and p.i == 3:
                raise err(f"unknown allocator {t.text[:20]!r}: a value is malloc N, calloc N "
                          "SIZE, realloc P N, strdup \"text\", mmap N, local N, or a pointer "
                          "(q, q + 8, q[3], NULL)")
            p.end("the value")
            return Step(line, text, "assign", target, (ref,), expect)
    t = p.take()
    if t.kind != "name":
        raise err(f"a line starts with a command or 'name =', not {t.text[:20]!r}")
    cmd = t.text
    args: tuple[Any, ...]
    if cmd == "malloc":
        args = (p.integer("malloc's size"),)
    elif cmd == "calloc":
        args = (p.integer("calloc's count"), p.integer("calloc's element size"))
    elif cmd == "realloc":
        args = (p.pointer("realloc's pointer"), p.integer("realloc's size"))
    elif cmd == "strdup":
        args = (p.string("strdup's text"),)
    elif cmd in ("mmap", "local", "sbrk"):
        args = (p.integer(f"{cmd}'s size"),)
    elif cmd in ("free", "munmap"):
        args = (p.pointer(f"{cmd}'s pointer"),)
    elif cmd == "write":
        ref = p.atom("write's pointer")
        values: list[Any] = []
        while not p.done():
            v = p.peek()
            assert v is not None
            if v.kind == "str":
                values.append(p.string("a value"))
            elif v.kind == "name" and v.text != "sizeof":
                values.append(p.atom("a pointer value"))
            else:
                values.append(p.sum("a value"))
        if not values:
            raise err("write needs a value: write p \"text\", write p[3] 7, write a:int[0] 42")
        args = (ref, tuple(values))
    elif cmd == "read":
        ref = p.atom("read's pointer")
        count = 1 if p.done() else p.integer("read's count")
        args = (ref, count)
    elif cmd == "strcpy":
        args = (p.atom("strcpy's destination"), p.string("strcpy's text"))
    elif cmd == "memset":
        args = (p.atom("memset's pointer"), p.integer("memset's byte"),
                p.integer("memset's count"))
    elif cmd == "memcpy":
        args = (p.atom("memcpy's destination"), p.atom("memcpy's source"),
                p.integer("memcpy's count"))
    elif cmd == "note":
        args = (p.string("the note").decode("utf-8", "replace"),)
    elif cmd == "enter":
        args = (p.name("the function's name") if not p.done() else "main",)
    elif cmd in ("check", "leave"):
        args = ()
    elif cmd in ("heap", "expect"):
        raise AssertionError("handled by parse()")
    else:
        hint = f" (did you mean '{target} = {cmd} …'?)" if target else ""
        raise err(f"unknown command {cmd!r}{hint}; commands: "
                  + ", ".join(c for c in (*ALLOCATORS, *COMMANDS) if c != "heap"))
    if target is not None and cmd not in ALLOCATORS:
        raise err(f"{cmd} gives no pointer to assign to {target}")
    p.end(cmd)
    return Step(line, text, cmd, target, args, expect)


def parse(text: str, path: str = "<scenario>") -> Scenario:
    """Parse a scenario; a ScenarioError names the line of the first problem."""
    if not isinstance(text, str):
        raise TypeError(f"parse() takes the scenario's text (str), not {type(text).__name__}")
    sc = Scenario(path)
    pending: tuple[str, int] | None = None
    for lineno, raw in enumerate(text.split("\n"), 1):

        def err(reason: str, lineno: int = lineno, raw: str = raw) -> ScenarioError:
            return ScenarioError(path, lineno, reason, raw)

        toks = tokenize(raw, err)
        if not toks:
            continue
        p = _Line(toks, err)
        head = toks[0]
        is_cmd = head.kind == "name" and (len(toks) < 2 or toks[1].text != "=")
        if is_cmd and head.text == "heap":
            if sc.steps or pending:
                raise err("the heap line must come before the first step")
            if sc.header_line:
                raise err(f"a second heap line (the first is line {sc.header_line})")
            p.take()
            sc.options = _parse_header(p, err)
            sc.header_line = lineno
            continue
        if is_cmd and head.text == "expect":
            p.take()
            what = p.name("the expected error")
            p.end("the expected error")
            if what not in EXPECTABLE:
                raise err(f"cannot expect {what!r}: expect one of {', '.join(EXPECTABLE)}")
            if pending:
                raise err(f"two expects in a row (line {pending[1]} expects {pending[0]}): "
                          "an expect applies to the next step")
            pending = (what, lineno)
            continue
        step = _parse_statement(p, err, lineno, raw.strip(), pending[0] if pending else None)
        if step.expect == "NULL" and step.op not in ALLOCATORS:
            raise err(f"expect NULL (line {pending[1] if pending else 0}) needs an allocation "
                      f"step, not {step.op}")
        sc.steps.append(step)
        pending = None
    if pending:
        raise ScenarioError(path, pending[1], f"expect {pending[0]} is not followed by a step")
    return sc


def read(path: str | os.PathLike[str]) -> Scenario:
    """Read and parse a scenario file (ScenarioError when it cannot be read or parsed)."""
    name = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ScenarioError(name, 0, f"cannot read it: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ScenarioError(name, line, f"not a text file (byte {e.start} is not UTF-8)") from None
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise ScenarioError(name, line, "not a text file (it holds a NUL byte)")
    return parse(text, name)


# --------------------------------------------------------------------------------------------
# Running a scenario
# --------------------------------------------------------------------------------------------


@dataclass
class StepResult:
    """What one step did: its value (a Pointer, bytes read…), the errors it raised or
    reported, and `failure` (a message) when it did not go as the scenario says."""

    step: Step
    value: Any = None
    address: int | None = None  # the pointer the step made (value holds no Pointer)
    errors: list[BaseException] = field(default_factory=list)
    failure: str | None = None
    lost: int = 0  # "lost" events: blocks whose last pointer died in this step

    @property
    def ok(self) -> bool:
        return self.failure is None

    def describe(self) -> str:
        """A short note for the step log: the result, or the error caught."""
        if self.step.expect and self.ok:
            return f"✓ {self.step.expect} (expected)"
        if self.failure:
            return "✗ " + self.failure.split("\n")[0]
        if self.address is not None:
            return "→ NULL" if not self.address else f"→ {self.address:#x}"
        v = self.value
        if isinstance(v, bytes | int | float):
            return f"→ {v!r}"
        if isinstance(v, list):
            return "→ " + ", ".join(map(str, v))
        return ""


class _StepFailed(Exception):
    pass


def site_code(path: str, line: int, func: str = "<module>") -> CodeType:
    """A code object that calls `__step__()` as if from `path:line` in `func`.

    The binding tags every operation with the first frame outside the heapviz package; running
    a step through this code makes that frame the scenario's own line."""
    tree = ast.parse("__step__()")
    ast.increment_lineno(tree, max(1, line) - 1)
    code = compile(tree, path, "exec")
    with contextlib.suppress(ValueError, TypeError):
        code = code.replace(co_name=func, co_qualname=func)
    return code


class Runner:
    """Runs a Scenario on a heap, one step at a time, as the scenario's own lines.

        r = Runner(scenario, heap)
        for result in r:            # or r.run()
            ...
    `vars` holds the scenario's variables (name -> Pointer)."""

    def __init__(self, scenario: Scenario, heap: heapviz.Heap) -> None:
        self.scenario, self.heap = scenario, heap
        self.vars: dict[str, heapviz.Pointer] = {}
        self.results: list[StepResult] = []
        self._codes: dict[int, CodeType] = {}
        self._write_data: dict[int, bytes] = heap.__dict__.setdefault("_write_data", {})

    def __iter__(self) -> Iterator[StepResult]:
        for step in self.scenario.steps:
            result = self.run_step(step)
            yield result
            if not result.ok:
                return

    def run(self) -> list[StepResult]:
        """Every step until the first failure; the results."""
        return list(self)

    @property
    def failure(self) -> StepResult | None:
        return next((r for r in self.results if not r.ok), None)

    def pointer_vars(self) -> dict[str, int]:
        """The variables that point somewhere (for the pictures' arrows)."""
        return {k: int(v) for k, v in self.vars.items() if int(v)}

    # --- one step -----------------------------------------------------------------------
    def run_step(self, step: Step) -> StepResult:
        h = self.heap
        res = StepResult(step)
        errors_before = len(h.__dict__.get("_errors", ()))
        _, count = h._history()
        raised: BaseException | None = None
        code = self._codes.get(step.line)
        if code is None:
            code = self._codes[step.line] = site_code(self.scenario.path, step.line)
        try:
            exec(code, {"__step__": lambda: self._do(step, res), "__builtins__": {}})
        except heapviz.HeapError as e:
            raised = e.with_traceback(None)  # its frames would keep the step's Pointers alive
        except _StepFailed as e:
            res.failure = str(e)
        except Exception as e:  # ValueError, OverflowError, RuntimeError…: the step's fault
            res.failure = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        reported = list(h.__dict__.get("_errors", ()))[errors_before:]
        res.errors = reported if raised is None or any(e is raised for e in reported) else [
            *reported, raised]
        if isinstance(res.value, heapviz.Pointer):
            # Results outlive the step: they must not keep a Pointer (and its block) alive.
            res.address, res.value = int(res.value), None
        if not h.closed:
            _, now = h._history()
            res.lost = sum(1 for t in h._events(count, now) if t[2] == _core.EV_LOST)
        self._judge(step, res)
        self.results.append(res)
        return res

    def _judge(self, step: Step, res: StepResult) -> None:
        if res.failure is not None:
            res.failure = f"{self.scenario.path}:{step.line}: {step.text}: {res.failure}"
            return
        where = f"{self.scenario.path}:{step.line}: {step.text}"
        want = step.expect
        names = ", ".join(type(e).__name__ for e in res.errors)
        if want is None:
            if res.errors:
                res.failure = f"{where}: unexpected {names}:\n{res.errors[0]}"
            return
        if want == "NULL":
            if res.errors:
                res.failure = f"{where}: expected NULL, but it raised {names}:\n{res.errors[0]}"
            elif res.address:
                res.failure = (f"{where}: expected NULL (the request to fail), but it "
                               f"returned {res.address:#x}")
            return
        if want == "Leak":
            if res.errors:
                res.failure = f"{where}: expected a leak, but it raised {names}:\n{res.errors[0]}"
            elif not res.lost:
                res.failure = (f"{where}: expected a leak (the last pointer to a block lost), "
                               "but no block was lost")
            return
        cls = ERRORS[want]
        if not res.errors:
            res.failure = f"{where}: expected {want}, but the step ran without an error"
        elif not any(isinstance(e, cls) for e in res.errors):
            res.failure = f"{where}: expected {want}, but got {names}:\n{res.errors[0]}"

    # --- the commands -------------------------------------------------------------------
    def _ptr(self, ref: Ref) -> heapviz.Pointer:
        if ref.name is None:
            p = heapviz.NULL if not ref.addr else heapviz.Pointer(ref.addr)
        else:
            if ref.name not in self.vars:
                raise _StepFailed(f"{ref.name} is not defined (give it a value first: "
                                  f"{ref.name} = malloc 16)")
            p = self.vars[ref.name]
        if ref.ctype is not None:
            p = p.cast(ref.ctype)
        if ref.index:
            p = p + ref.index
        if ref.offset:
            p = p + ref.offset
        return p

    def _assign(self, step: Step, value: heapviz.Pointer) -> None:
        if step.target is not None:
            self.vars[step.target] = value

    def _record_write(self, p: heapviz.Pointer, n: int) -> None:
        """A write is not an event of the binding's; the scenario records it (for pictures of
        past steps and for recordings), with the bytes written."""
        h = self.heap
        if n <= 0 or h.closed:
            return
        seq = h._record(_core.EV_WRITE, int(p), n, 0, 0, h._site(), 0)
        if seq != (1 << 64) - 1 and n <= 1 << 20:
            with contextlib.suppress(Exception):
                self._write_data[seq] = bytes(h._raw_read(int(p), n))

    def _do(self, step: Step, res: StepResult) -> None:
        h, op, a = self.heap, step.op, step.args
        if op == "malloc":
            res.value = h.malloc(a[0])
        elif op == "calloc":
            res.value = h.calloc(a[0], a[1])
        elif op == "realloc":
            res.value = h.realloc(self._ptr(a[0]), a[1])
        elif op == "strdup":
            res.value = h.strdup(a[0])
            if res.value:
                self._record_write(res.value, len(a[0]) + 1)
        elif op == "mmap":
            res.value = h.mmap(a[0])
        elif op == "local":
            if not h._frames():
                raise _StepFailed("local needs a function frame: 'enter main' first")
            res.value = h._frame_alloc(a[0])
        elif op == "assign":
            res.value = self._ptr(a[0])
        elif op == "free":
            h.free(self._ptr(a[0]))
        elif op == "munmap":
            h.munmap(self._ptr(a[0]))
        elif op == "sbrk":
            res.value = h.sbrk(a[0])
        elif op == "write":
            self._write(self._ptr(a[0]), a[1])
        elif op == "read":
            res.value = self._read(self._ptr(a[0]), a[1])
        elif op == "strcpy":
            dst = self._ptr(a[0])
            heapviz.strcpy(dst, a[1])
            self._record_write(dst, len(a[1]) + 1)
        elif op == "memset":
            dst = self._ptr(a[0])
            if not 0 <= a[1] <= 255:
                raise _StepFailed(f"memset's byte must be 0..255, not {a[1]}")
            heapviz.memset(dst, a[1], a[2])
            self._record_write(dst, a[2])
        elif op == "memcpy":
            dst = self._ptr(a[0])
            heapviz.memcpy(dst, self._ptr(a[1]), a[2])
            self._record_write(dst, a[2])
        elif op == "note":
            h.note(a[0])
        elif op == "check":
            problems = h.check()
            if problems:
                raise _StepFailed("the heap check found:\n" + "\n".join(map(str, problems)))
        elif op == "enter":
            h._frame_push(a[0])
        elif op == "leave":
            if not h._frames():
                raise _StepFailed("leave without enter: no function frame is open")
            h._frame_pop()
        else:  # pragma: no cover - parse() makes only the steps above
            raise _StepFailed(f"unknown step {op}")
        if isinstance(res.value, heapviz.Pointer):
            self._assign(step, res.value)
            # Dropped here, inside the step, so that a lost block is lost at this line.
            res.address, res.value = int(res.value), None

    def _write(self, p: heapviz.Pointer, values: tuple[Any, ...]) -> None:
        typed = p.type not in ("char", "unsigned char", "signed char", "void")
        data = bytearray()
        elements: list[Any] = []
        for v in values:
            if isinstance(v, bytes):
                if typed:
                    raise _StepFailed(f"a string cannot be written into {p.type} elements")
                data += v
            elif isinstance(v, Ref):
                if not typed or not p.type.endswith("*"):
                    raise _StepFailed(f"a pointer ({v}) can only be written into pointer "
                                      "elements, such as p:void*[0]")
                elements.append(self._ptr(v))
            elif typed:
                elements.append(v)
            else:
                if isinstance(v, float) or not 0 <= v <= 255:
                    raise _StepFailed(f"{v} is not a byte (0..255); write a typed element "
                                      "instead, such as p:int[0] 1000")
                data.append(v)
        if typed:
            size = heapviz.sizeof(p.type)
            for i, v in enumerate(elements):
                p[i] = v
            self._record_write(p, size * len(elements))
        else:
            p.write(bytes(data))
            self._record_write(p, len(data))

    @staticmethod
    def _read(p: heapviz.Pointer, count: int) -> Any:
        if not 0 <= count <= 1 << 20:
            raise _StepFailed(f"read's count must be 0 to 1 MiB, not {count}")
        if p.type in ("char", "unsigned char", "signed char", "void"):
            return bytes(p.read(count))
        if count > 1 << 16:
            raise _StepFailed(f"read of {count} elements: at most 65536")
        vals = [p[i] for i in range(count)]
        return vals[0] if count == 1 else vals


# --------------------------------------------------------------------------------------------
# Python scripts
# --------------------------------------------------------------------------------------------


class _ScriptRun:
    """The heaps a Python script uses (heapviz.Heap is swapped for a tracking subclass while
    the script runs), and what to do with each before it is closed."""

    def __init__(self, overrides: dict[str, Any], on_close: Callable[[Any], None],
                 view: Callable[[Any], None] | None) -> None:
        self.overrides, self.on_close, self.view = overrides, on_close, view
        self.heaps: list[Any] = []
        self.provided: Any = None
        self.finished: list[Any] = []

    def finish(self, h: Any) -> None:
        if any(x is h for x in self.finished) or h.closed:
            return
        if h is self.provided and h._history()[1] == 0:
            return  # the script made its own heap and never used the one it was given
        self.finished.append(h)
        self.on_close(h)


_ACTIVE: list[_ScriptRun] = []


class TrackedHeap(heapviz.Heap):
    """heapviz.Heap as a script run by `python -m heapviz run` sees it: the command line's
    options apply, and the run's outputs are written before the heap is closed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        run = _ACTIVE[-1] if _ACTIVE else None
        try:
            bound = inspect.signature(heapviz.heap.Heap.__init__).bind(self, *args, **kwargs)
        except TypeError:
            super().__init__(*args, **kwargs)  # the same TypeError, in Heap's words
            return
        options = {k: v for k, v in bound.arguments.items() if k != "self"}
        if run is not None:
            options.update(run.overrides)
        super().__init__(**options)
        self.__dict__["_heapviz_config"] = dict(options)
        if run is not None:
            run.heaps.append(self)
            if run.view is not None:
                run.view(self)

    def close(self) -> None:
        for run in _ACTIVE:
            if any(h is self for h in run.heaps):
                run.finish(self)
        super().close()


def _script_traceback(exc: BaseException) -> str:
    """The student's part of a traceback (heapviz's and runpy's own frames left out)."""
    te = traceback.TracebackException.from_exception(exc)
    pkg = os.path.dirname(os.path.abspath(__file__))
    frames = [f for f in te.stack if not os.path.abspath(f.filename).startswith(pkg + os.sep)
              and "runpy" not in f.filename]
    te.stack = traceback.StackSummary.from_list(frames)
    return "".join(te.format())


def run_script(path: str, options: dict[str, Any], on_close: Callable[[Any], None],
               view: Callable[[Any], None] | None = None, argv: list[str] | None = None,
               stderr: TextIO | None = None) -> tuple[int, list[Any]]:
    """Run a Python script with `heap`/`h` bound to Heap(**options); a Heap the script makes
    gets `options` too.  Returns (exit status, the heaps the script used, still open).

    `on_close(heap)` runs for every heap the script used, before it is closed (or at the
    end of the script); `view(heap)` as soon as each heap is made."""
    stderr = stderr or sys.stderr
    run = _ScriptRun(options, on_close, view)
    saved = (heapviz.Heap, sys.argv[:], sys.path[:])
    status = 0
    _ACTIVE.append(run)
    heapviz.Heap = TrackedHeap  # type: ignore[misc]
    try:
        try:
            heap = TrackedHeap()
        except (ValueError, TypeError, OverflowError, OSError) as e:
            raise ScenarioError(path, 0, f"cannot make the heap: {e}") from None
        run.provided = heap
        sys.argv = [path, *(argv or [])]
        sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
        runpy.run_path(path, init_globals={"heap": heap, "h": heap, "heapviz": heapviz},
                       run_name="__main__")
    except ScenarioError:
        raise
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if e.code is not None and not isinstance(e.code, int):
            print(e.code, file=stderr)
    except heapviz.HeapError as e:
        print(f"{path}: {type(e).__name__}\n{e}", file=stderr)
        status = 1
    except KeyboardInterrupt:
        print(f"{path}: interrupted", file=stderr)
        status = 130
    except BaseException as e:
        print(_script_traceback(e), end="", file=stderr)
        status = 1
    finally:
        heapviz.Heap = saved[0]  # type: ignore[misc]
        sys.argv, sys.path[:] = saved[1], saved[2]
        _ACTIVE.remove(run)
    for h in run.heaps:
        run.finish(h)
    return status, [h for h in run.finished if not h.closed]


# --------------------------------------------------------------------------------------------
# Files: which kind, and a live heap from any of them (for `python -m heapviz view`)
# --------------------------------------------------------------------------------------------


def file_kind(path: str) -> str:
    """"python", "recording", "trace" or "scenario", from the name (and the first bytes)."""
    low = path.lower()
    if low.endswith((".py", ".pyw")):
        return "python"
    if low.endswith((".hvlog", ".hvlog.gz")):
        return "recording"
    if low.endswith(".rep"):
        return "trace"
    with contextlib.suppress(OSError), open(path, "rb") as f:
        head = f.read(64)
        if head.startswith(b"\x1f\x8b") or b"heapviz-recording" in head:
            return "recording"
    return "scenario"


def heap_from_file(path: str, **options: Any) -> heapviz.Heap:
    """A live heap after running FILE: a scenario (up to its end or its first failure), a
    Python script (the first heap it used, left open), or a recording (replayed).

    `options` override the file's heap options.  Raises ScenarioError (or RecordingError,
    TraceError) with a clear message when the file is malformed."""
    kind = file_kind(path)
    if kind == "recording":
        from heapviz import recording

        return recording.load(path).replay(overrides=options or None)
    if kind == "trace":
        from heapviz import compare

        return compare.trace_heap(path, options)
    if kind == "python":
        _, heaps = run_script(path, options, on_close=lambda h: None)
        if not heaps:
            raise ScenarioError(path, 0, "the script left no open heap that it used")
        return heaps[0]  # type: ignore[no-any-return]
    sc = read(path)
    h = make_heap({**sc.options, **options}, path)
    runner = Runner(sc, h)
    runner.run()
    h.__dict__["_scenario_vars"] = runner.vars  # keep the pointers alive with the heap
    return h


# --------------------------------------------------------------------------------------------
# Outputs: pictures per step, a GIF, a recording, the window
# --------------------------------------------------------------------------------------------


class Progress:
    """`what 12/40` on stderr, rewritten in place on a terminal, else every 10%."""

    def __init__(self, what: str, total: int, stream: TextIO | None = None,
                 enabled: bool | None = None) -> None:
        self.what, self.total, self.stream = what, total, stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = total >= 20 if enabled is None else enabled
        self.shown = -1

    def step(self, i: int) -> None:
        if not self.enabled:
            return
        if self.tty:
            print(f"\r{self.what} {i}/{self.total}", end="", file=self.stream, flush=True)
        else:
            tenth = i * 10 // max(1, self.total)
            if tenth != self.shown:
                self.shown = tenth
                print(f"{self.what} {i}/{self.total}", file=self.stream, flush=True)

    def done(self) -> None:
        if self.enabled and self.tty:
            print(f"\r{self.what} {self.total}/{self.total}", file=self.stream, flush=True)


def display_available() -> bool:
    """Whether a window can open: a display, SDL not told to stay offscreen, the viewer."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    if os.environ.get("SDL_VIDEODRIVER", "") in ("dummy", "offscreen"):
        return False
    try:
        from heapviz import viewer  # noqa: F401
    except ImportError:
        return False
    return True


def _renderer_or_exit(need: bool) -> Any:
    if not need:
        return None
    from heapviz import render

    return render.viz() and render  # RuntimeError naming the missing packages


def history_pictures(h: Any, folder: str, width: int = 1200, prefix: str = "step") -> list[str]:
    """A PNG per operation of h's recorded history (step000.png is the empty heap)."""
    from heapviz import render

    os.makedirs(folder, exist_ok=True)
    replay = render.viz().Replay(h._capsule())
    ops = int(replay.ops)
    paths = []
    prog = Progress("pictures", ops + 1)
    for k in range(ops + 1):
        path = os.path.join(folder, f"{prefix}{k:03d}.png")
        render.render_png(h, path, width=width, at=k)
        paths.append(path)
        prog.step(k + 1)
    prog.done()
    return paths


def _suffixed(path: str, i: int) -> str:
    """The output name for the i-th heap of a run: path itself, then path-2, path-3…"""
    if i == 0:
        return path
    base, ext = os.path.splitext(path)
    if base.endswith(".hvlog"):
        base, ext = base[:-6], ".hvlog" + ext
    return f"{base}-{i + 1}{ext}"


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = ("FILE is a scenario (.hv or any text: docs/scenarios.md), a Python script "
                     "(.py, run with `heap`/`h` bound to the heap), or a recording (.hvlog).")
    parser.add_argument("file", metavar="FILE", help="scenario, Python script or recording")
    add_heap_options(parser)
    out = parser.add_argument_group("outputs")
    out.add_argument("--view", action="store_true", help="play the run in the viewer window")
    out.add_argument("--step", action="store_true",
                     help="with --view: wait for a key press after every step")
    out.add_argument("--delay", type=float, default=None,
                     help="with --view: seconds between scenario steps (default 0.6)")
    out.add_argument("--png", metavar="DIR", help="write a picture per step into DIR")
    out.add_argument("--gif", metavar="FILE",
                     help="write the whole run as an animated GIF (or APNG: .png/.apng)")
    out.add_argument("--record", metavar="FILE", help="write a recording (.hvlog) of the run")
    out.add_argument("--width", type=int, default=1200, help="picture width (default 1200)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no step log")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print every error report and the block table after each step")
    parser.add_argument("args", nargs="*", metavar="-- ARG",
                        help="arguments for a Python script (after --)")
    native.add_run_options(parser)


def _summary(h: Any) -> str:
    s = h.stats()
    blocks = f"{s.free_blocks} free block{'' if s.free_blocks == 1 else 's'}"
    return (f"heap {s.heap_size} B, in use {s.in_use} B, free {s.free_bytes} B, largest free "
            f"{s.largest_free} B, {blocks}, utilization {s.utilization:.0%}")


def _describe_heap(options: dict[str, Any]) -> str:
    o = {"policy": "first", "order": "address", "coalesce": "immediate", "align": 16,
         "size": 4096, **options}
    return (f"policy {o['policy']}, order {o['order']}, coalesce {o['coalesce']}, "
            f"align {o['align']}, {o['size']}-byte heap")


class _Outputs:
    """--png/--gif/--record/--view for one run (checked up front, written per heap)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.render = _renderer_or_exit(bool(args.png or args.gif or args.view))
        if args.view and not display_available():
            raise RuntimeError("--view needs a display (DISPLAY is not set, or SDL_VIDEODRIVER "
                               "keeps SDL offscreen): write pictures with --png DIR or an "
                               "animation with --gif FILE instead")
        self.viewers: list[Any] = []
        self._shown: list[tuple[Any, Any]] = []
        self.written: list[str] = []
        self.errors: list[str] = []
        self.count = 0

    def show(self, h: Any) -> None:
        """Open a window on h.  A script's given heap gets one at once; when the script makes
        a heap of its own, the given heap's window closes if nothing happened in it."""
        if not self.args.view:
            return
        for other, v in list(self._shown):
            if other is not h and not other.closed and other._history()[1] == 0:
                v.close()
                self._shown.remove((other, v))
                self.viewers.remove(v)
        v = h.show(step=self.args.step)
        self._shown.append((h, v))
        self.viewers.append(v)

    def finish(self, h: Any, pictures: bool = True) -> None:
        """Write this heap's outputs (the i-th heap of a run gets names ending in -i): the
        recording first, the pictures, then the animation (the slowest)."""
        a, i = self.args, self.count
        self.count += 1
        if a.record:
            self._write(lambda: self._record(h, _suffixed(a.record, i)))
        if a.png and pictures:
            self._write(lambda: self._pictures(h, _suffixed(a.png, i)))
        if a.gif:
            self._write(lambda: self._animation(h, _suffixed(a.gif, i)))

    def _write(self, fn: Callable[[], str]) -> None:
        try:
            self.written.append(fn())
        except (RuntimeError, ValueError, OSError) as e:
            self.errors.append(str(e))

    @staticmethod
    def _record(h: Any, path: str) -> str:
        from heapviz import recording

        recording.save(h, path)
        return f"recording: {path}"

    def _pictures(self, h: Any, folder: str) -> str:
        paths = history_pictures(h, folder, self.args.width)
        return f"pictures: {folder}/ ({len(paths)} steps)"

    def _animation(self, h: Any, path: str) -> str:
        ops = int(self.render.viz().Replay(h._capsule()).ops)
        if ops >= 50:
            print(f"animation: drawing {min(ops + 1, 400)} frames into {path} …",
                  file=sys.stderr, flush=True)
        frames = self.render.render_timeline(h, path, width=min(self.args.width, 1000))
        return f"animation: {path} ({frames} frames)"

    def report(self) -> int:
        """Print what was written and what failed; 1 if something failed."""
        for line in self.written:
            print(line)
        for e in self.errors:
            print(f"heapviz run: {e}", file=sys.stderr)
        return 1 if self.errors else 0

    def wait_for_windows(self, text: str) -> None:
        for v in self.viewers:
            v.script_ended(text)
        if self.viewers:
            print("the window shows the final state; close it to finish", file=sys.stderr)
        for v in self.viewers:
            v.wait()


def main(args: argparse.Namespace) -> int:
    path = args.file
    if native.is_program(path):  # an executable: a real C program (heapviz.native)
        return native.run_program(args, heap_options(args))
    if not os.path.exists(path):
        print(f"heapviz run: {path}: no such file", file=sys.stderr)
        return 2
    try:
        outputs = _Outputs(args)
    except RuntimeError as e:
        print(f"heapviz run: {e}", file=sys.stderr)
        return 2
    kind = file_kind(path)
    try:
        if kind == "python":
            return _main_script(args, outputs)
        if kind == "recording":
            return _main_recording(args, outputs)
        if kind == "trace":
            print(f"heapviz run: {path} is a malloc-lab trace: use `python -m heapviz trace "
                  f"{path}` or `python -m heapviz compare {path}`", file=sys.stderr)
            return 2
        return _main_scenario(args, outputs)
    except (ScenarioError, OSError) as e:
        print(f"heapviz run: {e}", file=sys.stderr)
        return 2
    except ValueError as e:  # RecordingError, TraceError
        print(f"heapviz run: {e}", file=sys.stderr)
        return 2


def _main_scenario(args: argparse.Namespace, outputs: _Outputs) -> int:
    sc = read(args.file)
    options = {**sc.options, **heap_options(args)}
    h = make_heap(options, args.file)
    runner = Runner(sc, h)
    say = (lambda s: None) if args.quiet else print
    say(f"{args.file}: {_describe_heap(options)}")
    outputs.show(h)
    delay = args.delay if args.delay is not None else (0.6 if args.view and not args.step else 0)
    pictures: list[str] = []
    render = outputs.render
    if args.png:
        os.makedirs(args.png, exist_ok=True)

    def picture(k: int) -> None:
        if args.png:
            path = os.path.join(args.png, f"step{k:03d}.png")
            render.render_png(h, path, width=args.width, vars=runner.pointer_vars())
            pictures.append(path)

    progress = Progress("steps", len(sc.steps), enabled=bool(args.png) and len(sc.steps) >= 20
                        and args.quiet)
    picture(0)
    caught = 0
    for k, res in enumerate(runner, 1):
        step = res.step
        note = res.describe() if res.ok else "✗"
        say(f"{step.line:5d}  {step.text[:48]:<48} {note}".rstrip())
        if args.verbose and not args.quiet:
            for e in res.errors:
                print("\n".join("       │ " + line for line in str(e).splitlines()))
            from heapviz import text as textview

            print(textview.table(h))
        if res.ok and step.expect and step.expect not in ("NULL",):
            caught += 1
        picture(k)
        progress.step(k)
        if delay and outputs.viewers:
            time.sleep(delay)
    progress.done()
    failure = runner.failure
    if failure is not None:
        print(failure.failure, file=sys.stderr)
    ran = len(runner.results)
    say(f"{ran} of {len(sc.steps)} steps ran; {caught} expected error"
        f"{'' if caught == 1 else 's'} caught.")
    say(_summary(h))
    if args.png:
        outputs.written.append(f"pictures: {args.png}/ ({len(pictures)} steps)")
    outputs.finish(h, pictures=False)
    failed = outputs.report()
    outputs.wait_for_windows((failure.failure or "").split("\n")[0][:150] if failure else
                             f"{os.path.basename(args.file)}: done")
    # The scenario's pointers are still alive at the end, as a C program's are at exit.
    h.checks = "off"
    h.close()
    runner.vars.clear()
    return 1 if failure is not None else failed


def _main_script(args: argparse.Namespace, outputs: _Outputs) -> int:
    status, heaps = run_script(args.file, heap_options(args), on_close=outputs.finish,
                               view=outputs.show if args.view else None, argv=args.args)
    if not outputs.count:
        print(f"{args.file}: the script used no heap", file=sys.stderr)
    failed = outputs.report()
    outputs.wait_for_windows(f"{os.path.basename(args.file)}: exit status {status}")
    for h in heaps:
        h.close()
    return status or failed


def _main_recording(args: argparse.Namespace, outputs: _Outputs) -> int:
    from heapviz import recording

    rec = recording.load(args.file)
    overrides = heap_options(args)
    h = rec.replay(overrides=overrides or None, verify=not overrides)
    if not args.quiet:
        print(f"{args.file}: {rec.steps} steps, {len(rec.events)} events replayed "
              f"({_describe_heap(rec.config)})")
        print(_summary(h))
    outputs.show(h)
    outputs.finish(h)
    failed = outputs.report()
    outputs.wait_for_windows(f"{os.path.basename(args.file)}: replayed")
    h.checks = "off"
    h.close()
    return failed
