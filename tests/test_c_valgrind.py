"""heapviz's verdicts on real C programs, judged by valgrind.

Every program of tests/errors/c/ (the C twin of each Python error program) and of
examples/c/ is built twice: with `gcc -g -O0 -fno-builtin` for valgrind (`--leak-check=full
--show-leak-kinds=all`), and with `heapviz cc` for `heapviz run`.  The two reports are
compared field by field:

- the errors: each heapviz error is one valgrind reports (kind, access size, the line of
  the innermost frame in the program's own file), and the first ones agree;
- the leaks: the LEAK SUMMARY (bytes and blocks of each kind), and every loss record with
  its numbers ("48 (16 direct, 32 indirect) bytes in 1 blocks are definitely lost in loss
  record 2 of 2") and the allocation lines in its stack;
- a fatal signal, reported as valgrind reports it, and the exit status;
- stdout, wherever the program's behaviour is defined (no memory error).

The plain gcc build, run through `heapviz run` with no instrumentation (LD_PRELOAD), is
compared on what an allocator can know: the free() errors, leaks, the signal and the exit
status; the overflows glibc notices at the next free or malloc are caught there too, with
glibc's message (the native run of the corpus says which).
"""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from c_programs import (
    CORPUS_C,
    EXAMPLES_C,
    Report,
    build,
    first_line,
    heapviz_run,
    kind,
    lines_in,
    needs_runtime,
    needs_valgrind,
    valgrind,
)
from test_errors_corpus import CORPUS, parse

pytestmark = [needs_runtime, needs_valgrind, pytest.mark.valgrind]

SOURCES = sorted(CORPUS_C.glob("*.c")) + sorted(EXAMPLES_C.glob("*.c"))

# Where heapviz cannot see what valgrind sees, by design (docs/c_programs.md says why).
NOT_SEEN = {
    "use_after_free_reused": "the freed block was handed out again (first fit reuses it at "
                             "once; valgrind holds freed blocks back): the access reads a "
                             "live block",
    "use_after_return": "heapviz does not track the stack: a dead frame's bytes are not "
                        "marked",
    "uninit_pointer": "heapviz does not track the stack: the uninitialised local pointer "
                      "is not seen, only the invalid write through it",
}


@dataclass
class Case:
    name: str
    source: Path
    vg: Report
    cc: Report | None
    plain: Report | None
    cc_log: str = ""


def _case(src: Path, out: Path) -> Case:
    plain, log = build(src, out, heapviz_cc=False)
    assert plain is not None, f"{src.name} does not build:\n{log}"
    cc, cc_log = build(src, out, heapviz_cc=True)
    args = ("7",) if src.stem == "vector" else ()
    return Case(src.stem, src, valgrind(plain, args),
                heapviz_run(cc, args) if cc else None, heapviz_run(plain, args), cc_log)


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    out = tmp_path_factory.mktemp("cprog")
    with ThreadPoolExecutor(max_workers=3) as pool:
        return {c.name: c for c in pool.map(lambda s: _case(s, out), SOURCES)}


def _errors(r: Report, source: str) -> list[tuple[str, int | None]]:
    """(kind, line) of each error; an uninitialised read's line is left out: heapviz
    reports it at the load, valgrind where the value decides a branch or an address
    (docs/c_programs.md), usually but not always the same line."""
    return [(kind(rec), None if kind(rec) == "uninitialised" else first_line(rec, source))
            for rec in r.errors()]


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_instrumented_errors(src: Path, cases: dict[str, Case]) -> None:
    c = cases[src.stem]
    assert c.cc is not None, f"heapviz cc failed:\n{c.cc_log}"
    ours, theirs = _errors(c.cc, src.name), _errors(c.vg, src.name)
    for e in ours:  # no false error
        assert e in theirs, f"{c.name}: heapviz reports {e}, valgrind does not:\n{c.cc.text}"
    if c.name in NOT_SEEN:
        seen = [e for e in theirs if e in ours]
        assert len(seen) == len(ours), NOT_SEEN[c.name]
        return
    assert bool(ours) == bool(theirs), f"{c.name}: valgrind:\n{c.vg.text}\nheapviz:\n" \
                                       f"{c.cc.text}"
    if theirs:
        assert ours[0] == theirs[0], f"{c.name}: first errors differ"
        assert first_line(c.cc.errors()[0], src.name), f"{c.name}: no line of {src.name}"


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_instrumented_leaks_signal_status(src: Path, cases: dict[str, Case]) -> None:
    c = cases[src.stem]
    assert c.cc is not None, c.cc_log
    assert c.cc.leak_summary() == c.vg.leak_summary(), f"{c.name}:\n{c.vg.text}\n{c.cc.text}"
    assert c.cc.loss_records(src.name) == c.vg.loss_records(src.name)
    assert c.cc.signal_line() == c.vg.signal_line()
    if c.vg.signal_line() and c.name not in NOT_SEEN:  # (an uninitialised pointer's
        assert "Access not within mapped region" in c.cc.text  # value is the stack's)
    # a program killed by a signal kills `heapviz run` (and valgrind) with it
    assert c.cc.returncode == c.vg.returncode
    if not c.vg.errors():
        assert c.cc.stdout == c.vg.stdout


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_uninstrumented(src: Path, cases: dict[str, Case]) -> None:
    """The plain build under LD_PRELOAD: free() errors, leaks, signal, status."""
    c = cases[src.stem]
    assert c.plain is not None
    frees = [(kind(r), first_line(r, src.name)) for r in c.plain.errors()]
    theirs = [(kind(r), first_line(r, src.name)) for r in c.vg.errors()
              if r[0].startswith(("Invalid free", "Argument '"))]
    assert frees == theirs, f"{c.name}:\n{c.plain.text}"
    native = parse(CORPUS / f"{c.name}.py").native if (CORPUS / f"{c.name}.py").exists() \
        else []
    if "found its own bookkeeping damaged" in c.plain.text:
        # the damage an overflow did, found at the next free or malloc, as glibc does
        assert c.plain.returncode == -signal.SIGABRT
        for text in native:
            assert text in c.plain.text
        return
    assert not native, f"{c.name}: glibc notices damage here, heapviz does not"
    assert c.plain.leak_summary() == c.vg.leak_summary(), c.plain.text
    assert c.plain.signal_line() == c.vg.signal_line()
    assert c.plain.returncode == c.vg.returncode


def test_every_c_twin_is_judged() -> None:
    assert len(list(CORPUS_C.glob("*.c"))) >= 38
    assert {p.stem for p in CORPUS_C.glob("*.c")} <= {p.stem for p in SOURCES}
    assert lines_in(["x (a.c:3) y (a.c:12)"], "a.c") == (3, 12)
