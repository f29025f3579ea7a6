"""The corpus of buggy scripts (tests/errors/*.py): each is caught, explained and recorded.

Every script is a small program a student could write with heapviz, one of the Memory API
chapter's examples or homework questions (or a clean control).  Its docstring declares
what must happen, one `key: value` per line:

    mode: report                       checks= mode of its heap (default: strict)
    expect: BufferOverflow             the error classes recorded, in order ("none")
    address: 0x101a0                   the first error's address
    offset: 0 bytes after a block …    valgrind's wording, found in the first report
    report: …                          more text every report of the first error has
    leak: definitely lost 10 1         a leak kind with its bytes and blocks
    valgrind: …                        text valgrind prints for the C twin (tests/errors/c)
    native: …                          text glibc prints when the C twin runs natively

and comments in the code mark lines: `# <- BufferOverflow` (the class raised or
recorded at that line), `# <- alloc_site`, `# <- free_site` (the first error's sites) and
`# <- lost` (a "lost" event: the last reference dropped there).

This module also serves tests/test_errors_valgrind.py (`parse`, `run_script`).
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import heapviz
from heapviz.heap import Heap
from heapviz.records import Event, Leak

CORPUS = Path(__file__).parent / "errors"
SCRIPTS = sorted(p for p in CORPUS.glob("*.py") if not p.name.startswith("_"))
MARK = re.compile(r"#\s*<-\s*(\w+)")


@dataclass
class Expect:
    """What a corpus script declares."""

    path: Path
    mode: str = "strict"
    classes: list[str] = field(default_factory=list)
    address: int | None = None
    offset: str | None = None
    reports: list[str] = field(default_factory=list)
    leaks: list[tuple[str, int, int]] = field(default_factory=list)
    valgrind: list[str] = field(default_factory=list)
    native: list[str] = field(default_factory=list)
    marks: dict[str, list[int]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.stem

    def line(self, mark: str) -> int:
        lines = self.marks.get(mark, [])
        assert len(lines) == 1, f"{self.name}: want one '# <- {mark}' mark, found {lines}"
        return lines[0]


def parse(path: Path) -> Expect:
    text = path.read_text()
    doc = re.match(r'\s*"""(.*?)"""', text, re.S)
    assert doc, f"{path.name}: no docstring"
    ex = Expect(path)
    for raw in doc.group(1).splitlines():
        key, sep, value = raw.partition(":")
        key, value = key.strip(), value.strip()
        if not sep or " " in key:
            continue
        if key == "mode":
            ex.mode = value
        elif key == "expect":
            ex.classes = [] if value == "none" else [c.strip() for c in value.split(",")]
        elif key == "address":
            ex.address = int(value, 16)
        elif key == "offset":
            ex.offset = value
        elif key == "report":
            ex.reports.append(value)
        elif key == "leak":
            *kind, size, blocks = value.split()
            ex.leaks.append((" ".join(kind), int(size), int(blocks)))
        elif key == "valgrind":
            ex.valgrind.append(value)
        elif key == "native":
            ex.native.append(value)
    for no, line in enumerate(text.splitlines(), 1):
        for m in MARK.finditer(line):
            ex.marks.setdefault(m.group(1), []).append(no)
    return ex


@dataclass
class Outcome:
    """What running a script did."""

    raised: BaseException | None
    errors: list[Any]
    leaks: list[Leak]
    events: list[Event]
    stdout: str
    stderr: str


@contextlib.contextmanager
def _watch_heaps() -> Iterator[list[tuple[Heap, list[Event]]]]:
    """Every Heap the script creates, with its events as they were at close()."""
    seen: list[tuple[Heap, list[Event]]] = []
    real_init, real_close = Heap.__init__, Heap.close

    def init(self: Heap, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        seen.append((self, []))

    def close(self: Heap) -> None:
        if not self.closed:
            for heap, events in seen:
                if heap is self:
                    events[:] = list(self.events)
        real_close(self)

    Heap.__init__ = init  # type: ignore[method-assign]
    Heap.close = close  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        Heap.__init__ = real_init  # type: ignore[method-assign]
        Heap.close = real_close  # type: ignore[method-assign]


def run_script(path: Path) -> Outcome:
    """Run a corpus script as `python path` would, in this process."""
    code = compile(path.read_text(), str(path), "exec")
    namespace: dict[str, Any] = {"__name__": "__main__", "__file__": str(path)}
    out, err = io.StringIO(), io.StringIO()
    raised: BaseException | None = None
    with _watch_heaps() as heaps, contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        try:
            exec(code, namespace)
        except heapviz.HeapError as e:
            raised = e
        finally:
            for heap, _ in heaps:
                heap.close()
    assert len(heaps) == 1, f"{path.name}: expected one Heap, made {len(heaps)}"
    heap, events = heaps[0]
    return Outcome(raised, heap.errors(), heap.leaks(), events, out.getvalue(),
                   err.getvalue())


_OUTCOMES: dict[Path, Outcome] = {}


def outcome(path: Path) -> Outcome:
    """run_script, once per session."""
    if path not in _OUTCOMES:
        _OUTCOMES[path] = run_script(path)
    return _OUTCOMES[path]


OFFSET = re.compile(r"is (\d+) bytes (after|before|inside) a block of size ([\d,]+) "
                    r"(alloc'd|free'd)")


def test_the_corpus_is_big_enough() -> None:
    buggy = [p for p in SCRIPTS if parse(p).classes or parse(p).leaks]
    clean = [p for p in SCRIPTS if not parse(p).classes and not parse(p).leaks]
    assert len(buggy) >= 25, [p.name for p in buggy]
    assert len(clean) >= 3, [p.name for p in clean]
    assert all((CORPUS / "c" / f"{p.stem}.c").exists() for p in SCRIPTS), \
        [p.name for p in SCRIPTS if not (CORPUS / "c" / f"{p.stem}.c").exists()]


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_script(path: Path) -> None:
    ex = parse(path)
    got = outcome(path)
    names = [type(e).__name__ for e in got.errors]
    assert names == ex.classes, f"{ex.name}: recorded {names}\n{got.stderr}"
    for err in got.errors:
        for attr in ("address", "access_size", "block", "alloc_site", "free_site", "site",
                     "report"):
            assert hasattr(err, attr)
        assert str(err) == err.report
        assert isinstance(err, heapviz.HeapError)
    # each class at its marked line, in this script
    for err in got.errors:
        cls = type(err).__name__
        assert err.site is not None, f"{ex.name}: {cls} has no site"
        assert Path(err.site.file) == path
        assert err.site.line in ex.marks.get(cls, []), \
            f"{ex.name}: {cls} at line {err.site.line}, marked {ex.marks.get(cls)}"
    if ex.classes:
        first = got.errors[0]
        if ex.address is not None:
            assert first.address == ex.address, f"{ex.name}: address {first.address:#x}"
        if ex.offset is not None:
            assert ex.offset in first.report, f"{ex.name}:\n{first.report}"
        for text in ex.reports:
            assert any(text in e.report for e in got.errors), f"{ex.name}: {text!r}"
        for mark, attr in (("alloc_site", "alloc_site"), ("free_site", "free_site")):
            if mark in ex.marks:
                site = getattr(first, attr)
                assert site is not None and site.line == ex.line(mark), \
                    f"{ex.name}: {attr} {site}"
        # the report names the faulting line, as valgrind's "at" does
        assert f"({path.name}:{first.site.line})" in first.report
        # the report ends with one plain sentence of advice
        assert first.report.rstrip().endswith(".")
        # every error is an event the viewer draws
        drawn = [e for e in got.events if e.kind == "error"]
        assert len(drawn) == len(got.errors)
        assert drawn[0].address == first.address
    # strict raises the first error at its line; report raises only what kills C
    calloc_overflow = ex.classes == ["FishyValue"] and "returns NULL" in got.errors[0].report
    if ex.mode == "strict" and ex.classes and not calloc_overflow:
        assert got.raised is got.errors[0]
    elif calloc_overflow:
        assert got.raised is None  # C's calloc returns NULL: not an invalid access
    elif ex.mode == "report":
        fatal = (heapviz.SegmentationFault, heapviz.HeapCorruption)
        assert got.raised is None or isinstance(got.raised, fatal)
        assert all(e is got.raised or not isinstance(e, fatal) for e in got.errors)
    elif not ex.classes:
        assert got.raised is None
    # leaks, and the moment they happened
    kinds = sorted((lk.kind, lk.size) for lk in got.leaks)
    want: list[tuple[str, int]] = []
    for kind, size, blocks in ex.leaks:
        want += [(kind, size // blocks)] * blocks
    if got.raised is not None:  # the script stopped early: its pointers are alive
        kinds = [k for k in kinds if k[0] != "still reachable"]
    assert kinds == sorted(want), f"{ex.name}: leaks {kinds}"
    lost = [e.site.line for e in got.events if e.kind == "lost" and e.site is not None
            and Path(e.site.file) == path]
    assert lost == ex.marks.get("lost", []), f"{ex.name}: lost events at {lost}"
    if any(k != "still reachable" for k, _, _ in ex.leaks):
        assert "LEAK SUMMARY:" in got.stderr
        for kind, size, blocks in ex.leaks:
            assert f"{kind}: {size:,} bytes in {blocks} blocks" in got.stderr
    elif not ex.classes:
        assert "LEAK SUMMARY" not in got.stderr
    if not ex.classes:
        assert "==heapviz==" not in got.stderr or ex.leaks, got.stderr


@pytest.mark.parametrize("path", [p for p in SCRIPTS if parse(p).leaks],
                         ids=lambda p: p.stem)
def test_leak_records(path: Path) -> None:
    got = outcome(path)
    for lk in got.leaks:
        assert isinstance(lk, heapviz.Leak)
        assert lk.kind in ("definitely lost", "indirectly lost", "possibly lost",
                           "still reachable")
        assert lk.size == lk.block.requested
        assert lk.alloc_site is not None and Path(lk.alloc_site.file) == path
    ex = parse(path)
    if "alloc_site" in ex.marks:
        assert {lk.alloc_site.line for lk in got.leaks if lk.alloc_site} == \
            {ex.line("alloc_site")}
