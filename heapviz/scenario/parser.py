r"""The scenario format (docs/scenarios.md): tokens, statements, and `parse`/`read`.

    >>> sc = parse("heap policy=best\np = malloc 100\nfree p\n", "lesson.hv")
    >>> sc.options, [s.op for s in sc.steps]
    ({'policy': 'best'}, ['malloc', 'free'])
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heapviz import errors, sizes
from heapviz._core import sizeof
from heapviz.errors import HeapError
from heapviz.scenario.options import HEAP_OPTIONS, ScenarioError

_BIG = sizes.BIG
parse_size = sizes.parse_size


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
    except ValueError:
        if sizes.has_unit(text):
            raise err(f"{text[:30]!r} is far too large") from None
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


def _error_classes() -> dict[str, type[HeapError]]:
    out: dict[str, type[HeapError]] = {}
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
            return int(sizeof(ctype))
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
                sizeof(ctype)
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
