"""heapviz and valgrind agree on every program of the corpus.

Beside each script of tests/errors/ is the same program in C (tests/errors/c/NAME.c).
Each C program is compiled once and run under
`valgrind --leak-check=full --show-leak-kinds=all` (with --track-origins=yes where an
uninitialised value is the verdict; in parallel), and
valgrind's verdict is compared with the report heapviz gives for the Python script:

- the error kind (heapviz's headline — "Invalid write of size 4", "Invalid free() /
  delete / delete[] / realloc()", "Use of uninitialised value…", "Source and destination
  overlap in memcpy", "fishy (possibly negative) value" — is valgrind's);
- the offset wording ("N bytes after/before/inside a block of size S alloc'd/free'd", "not
  stack'd, malloc'd or (recently) free'd", "on the stack", "in a rw- anonymous segment");
- the line: valgrind names the line the C program marks with `<- error`;
- the LEAK SUMMARY: bytes and blocks of each leak kind are the same;
- for the checks="report" programs that corrupt the heap, the C program run natively
  (glibc's malloc, tcache off so that the fast bins' checks run) aborts with the message
  heapviz's HeapCorruption quotes.

Where the two differ by design, the script's docstring says so (use after return:
valgrind sees the dead stack as uninitialised; calloc overflow: valgrind is silent).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_errors_corpus import CORPUS, OFFSET, SCRIPTS, Expect, outcome, parse

import heapviz

VALGRIND = shutil.which("valgrind")
CC = shutil.which("gcc") or shutil.which("cc")

pytestmark = [
    pytest.mark.valgrind,
    pytest.mark.skipif(VALGRIND is None, reason="valgrind is not installed (apt-get install "
                       "valgrind): the C twins of the corpus cannot be checked"),
    pytest.mark.skipif(CC is None, reason="no C compiler (gcc or cc) to build the C twins"),
    pytest.mark.skipif("asan" in os.environ.get("LD_PRELOAD", ""), reason=(
        "the AddressSanitizer pass (make pytest-asan) checks the extension; the C twins "
        "under valgrind are checked once, in the plain pass")),
]

PREFIX = re.compile(r"^==\d+== ?", re.M)
ERROR_HEADS = ("Invalid ", "Conditional jump", "Use of uninitialised", "Source and "
               "destination overlap", "Argument '", "Syscall param", "Mismatched",
               "Process terminating")
UNINIT_HEADS = ("Conditional jump or move depends on uninitialised value(s)",
                "Use of uninitialised value of size")


@dataclass
class Run:
    """A C twin under valgrind, and natively."""

    name: str
    built: bool
    compile_errors: str = ""
    stdout: str = ""
    log: str = ""  # valgrind's stderr, ==pid== prefixes removed
    records: list[list[str]] = field(default_factory=list)
    native_stderr: str = ""
    native_rc: int = 0

    def leak_summary(self) -> dict[str, tuple[int, int]]:
        """{kind: (bytes, blocks)} from valgrind's LEAK SUMMARY (all zero when none)."""
        out = {k: (0, 0) for k in ("definitely lost", "indirectly lost", "possibly lost",
                                   "still reachable")}
        for kind, size, blocks in re.findall(
                r"^\s*(definitely lost|indirectly lost|possibly lost|still reachable): "
                r"([\d,]+) bytes in ([\d,]+) blocks", self.log, re.M):
            out[kind] = (int(size.replace(",", "")), int(blocks.replace(",", "")))
        return out


def _records(log: str) -> list[list[str]]:
    """valgrind's error records: a headline and its indented lines, up to a blank line."""
    out: list[list[str]] = []
    cur: list[str] = []
    for line in log.splitlines():
        if not line.strip():
            if cur:
                out.append(cur)
            cur = []
        elif cur or not line.startswith(" "):
            cur.append(line)
    if cur:
        out.append(cur)
    return out


def _build_and_run(src: Path, out: Path) -> Run:
    name = src.stem
    exe = out / name
    cc = subprocess.run([CC or "cc", "-O0", "-g", "-fno-builtin", "-w", "-o", str(exe),
                         str(src)], capture_output=True, text=True)
    if cc.returncode != 0:
        return Run(name, False, cc.stderr)
    ex = parse(CORPUS / f"{name}.py")
    # origins cost time: only where an uninitialised value is the verdict
    origins = any(c in ("UninitializedRead", "UseAfterReturn", "SegmentationFault")
                  for c in ex.classes)
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    vg = subprocess.run([VALGRIND or "valgrind", "--leak-check=full",
                         "--show-leak-kinds=all", "--read-inline-info=no",
                         f"--track-origins={'yes' if origins else 'no'}", str(exe)],
                        capture_output=True, text=True, timeout=120, env=env)
    log = PREFIX.sub("", vg.stderr)
    run = Run(name, True, stdout=vg.stdout, log=log, records=_records(log))
    if ex.native:
        env["GLIBC_TUNABLES"] = "glibc.malloc.tcache_count=0"
        nat = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60,
                             env=env)
        run.native_stderr, run.native_rc = nat.stderr, nat.returncode
    return run


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    out = tmp_path_factory.mktemp("valgrind")
    sources = sorted((CORPUS / "c").glob("*.c"))
    with ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 1)) as pool:
        done = list(pool.map(lambda s: _build_and_run(s, out), sources))
    return {r.name: r for r in done}


def _c_line(name: str, mark: str = "error") -> int | None:
    for no, line in enumerate((CORPUS / "c" / f"{name}.c").read_text().splitlines(), 1):
        if f"<- {mark}" in line:
            return no
    return None


def _normal(text: str) -> str:
    """Numbers without valgrind's thousands separators ("4,096" is 4096)."""
    return re.sub(r"(?<=\d),(?=\d{3})", "", text)


def _find(run: Run, pred: Callable[[list[str]], bool]) -> list[str] | None:
    return next((r for r in run.records if pred(r)), None)


def _address_words(report: str) -> str | None:
    """What heapviz says about the address, in valgrind's words."""
    m = OFFSET.search(report)
    if m:
        return _normal(m.group(0))
    for words, theirs in (("not stack'd, malloc'd or (recently) free'd", None),
                          ("is on the stack", "is on thread 1's stack"),
                          ("is in a rw- anonymous segment", None)):
        if words in report:
            return theirs or words
    return None


def _match(ex: Expect, err: heapviz.HeapError, run: Run) -> list[str]:
    """valgrind's record for heapviz's error; raises AssertionError when it has none."""
    head = err.report.splitlines()[0]
    words = _address_words(err.report)
    if isinstance(err, heapviz.UninitializedRead | heapviz.UseAfterReturn):
        origin = ("created by a stack allocation" if isinstance(err, heapviz.UseAfterReturn)
                  or "created by a stack allocation" in err.report
                  else "created by a heap allocation")
        rec = _find(run, lambda r: r[0].startswith(UNINIT_HEADS) and
                    any(origin in line for line in r))
        assert rec, f"{ex.name}: valgrind reports no uninitialised value {origin}"
        return rec
    if isinstance(err, heapviz.OverlappingCopy):
        size = f", {err.access_size})"
        rec = _find(run, lambda r: r[0].startswith("Source and destination overlap in "
                                                   "memcpy") and r[0].endswith(size))
        assert rec, f"{ex.name}: valgrind reports no overlap of {err.access_size} bytes"
        return rec
    if isinstance(err, heapviz.FishyValue):
        rec = _find(run, lambda r: r[0] == head)
        assert rec, f"{ex.name}: valgrind does not say {head!r}"
        return rec
    if isinstance(err, heapviz.SegmentationFault) and head.startswith(UNINIT_HEADS):
        # an uninitialised pointer: valgrind first complains about its value
        first = _find(run, lambda r: r[0] == head)
        assert first, f"{ex.name}: valgrind does not say {head!r}"
        head = next(line for line in err.report.splitlines()
                    if line.startswith("Invalid "))
    else:
        first = None
    rec = _find(run, lambda r: r[0] == head and
                (words is None or any(words in _normal(line) for line in r)))
    assert rec, f"{ex.name}: valgrind has no record {head!r} with {words!r}"
    if isinstance(err, heapviz.SegmentationFault):
        assert "Process terminating with default action of signal 11 (SIGSEGV)" in run.log
        if err.address in (0, 0x87654321):
            assert f"Access not within mapped region at address {err.address:#x}" in run.log
    return first or rec


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_valgrind_agrees(path: Path, runs: dict[str, Run]) -> None:
    ex = parse(path)
    run = runs[ex.name]
    assert run.built, f"{ex.name}.c does not compile:\n{run.compile_errors}"
    got = outcome(path)
    for text in ex.valgrind:
        assert text in run.log or text in run.stdout, f"{ex.name}: valgrind lacks {text!r}"
    errors = [e for e in got.errors if not isinstance(e, heapviz.HeapCorruption)]
    calloc_overflow = errors and "returns NULL" in errors[0].report
    if not errors or calloc_overflow:  # valgrind finds no memory error either
        assert not [r for r in run.records if r[0].startswith(ERROR_HEADS)], \
            f"{ex.name}: valgrind:\n{run.log}"
    if calloc_overflow:  # valgrind is silent; both programs see NULL
        assert run.stdout.strip() == got.stdout.strip() == "NULL"
    elif errors:
        rec = _match(ex, errors[0], run)
        line = _c_line(ex.name)
        assert line is not None, f"{ex.name}.c marks no line with <- error"
        assert any(f"({ex.name}.c:{line})" in r for r in rec), \
            f"{ex.name}: valgrind blames another line:\n" + "\n".join(rec)
    # leaks: the same LEAK SUMMARY
    if ex.leaks or not ex.classes:
        ours = {k: (0, 0) for k in run.leak_summary()}
        for lk in got.leaks:
            size, blocks = ours[lk.kind]
            ours[lk.kind] = (size + lk.size, blocks + 1)
        assert ours == run.leak_summary(), f"{ex.name}: valgrind:\n{run.log}"


@pytest.mark.parametrize("path", [p for p in SCRIPTS if parse(p).native],
                         ids=lambda p: p.stem)
def test_glibc_aborts_as_heapviz_says(path: Path, runs: dict[str, Run]) -> None:
    ex = parse(path)
    run = runs[ex.name]
    got = outcome(path)
    corruption = [e for e in got.errors if isinstance(e, heapviz.HeapCorruption)]
    assert corruption, f"{ex.name}: heapviz found no corruption"
    for text in ex.native:
        assert text in corruption[0].report
        assert text in run.native_stderr, f"{ex.name}: glibc says {run.native_stderr!r}"
    assert run.native_rc == -signal.SIGABRT


def test_the_c_twins_match_the_scripts() -> None:
    assert sorted(p.stem for p in (CORPUS / "c").glob("*.c")) == \
        sorted(p.stem for p in SCRIPTS)
