"""Helpers of the C-program tests (tests/test_c_*.py): building with gcc and `heapviz cc`,
running under `heapviz run` and under valgrind, and reading valgrind-style reports.

Every run of a program is bounded by a timeout, and the runtime never starts processes of
its own; programs are built once per session, in parallel, into pytest's temp dirs.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_errors_valgrind import _records as records

from heapviz.native import launch

ROOT = Path(__file__).resolve().parent.parent
CORPUS_C = ROOT / "tests" / "errors" / "c"
EXAMPLES_C = ROOT / "examples" / "c"
GCC = shutil.which("gcc")
CLANG = shutil.which("clang")
VALGRIND = shutil.which("valgrind")
HEAPVIZ = [sys.executable, "-m", "heapviz"]

needs_runtime = pytest.mark.skipif(
    not launch.RUNTIME.exists() or GCC is None,
    reason="the C runtime is not built (make build; it needs gcc and libgcc-12-dev)")
needs_valgrind = pytest.mark.skipif(
    VALGRIND is None, reason="valgrind is not installed (apt-get install valgrind): nothing "
    "to judge heapviz's verdicts by")

PREFIX = re.compile(r"^==(?:\d+|heapviz)== ?", re.M)
ERROR_HEADS = ("Invalid ", "Conditional jump", "Use of uninitialised", "Source and "
               "destination overlap", "Argument '", "Syscall param", "Mismatched")
UNINIT_HEADS = ("Conditional jump or move depends on uninitialised value(s)",
                "Use of uninitialised value of size")
KINDS = ("definitely lost", "indirectly lost", "possibly lost", "still reachable")


def limits() -> None:
    """In the child before exec: no core files, a bound on processes."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (200, 200))


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_PRELOAD", "HEAPVIZ_OPTIONS")}
    env.update(extra)
    return env


def run(argv: list[str], timeout: float = 60, env: dict[str, str] | None = None,
        stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, errors="replace",
                          timeout=timeout, env=env if env is not None else clean_env(),
                          input=stdin, preexec_fn=limits, cwd=cwd, check=False)


def build(src: Path, out: Path, heapviz_cc: bool, compiler: str | None = None,
          extra: tuple[str, ...] = ()) -> tuple[Path | None, str]:
    """gcc -g -O0 (what valgrind judges) or heapviz cc; (executable, compiler output)."""
    suffix = ".cc" if heapviz_cc else ".plain"
    exe = out / f"{src.stem}{suffix}{'-' + Path(compiler).name if compiler else ''}"
    if heapviz_cc:
        argv = [*HEAPVIZ, "cc", "-O0", "-w", *extra, "-o", str(exe), str(src), "-lpthread"]
        env = clean_env(CC=compiler or "gcc")
    else:
        argv = [compiler or GCC or "gcc", "-g", "-O0", "-fno-builtin", "-w", *extra, "-o",
                str(exe), str(src), "-lpthread"]
        env = clean_env()
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env,
                       check=False)
    return (exe if p.returncode == 0 else None), p.stdout + p.stderr


def build_all(sources: list[Path], out: Path, heapviz_cc: bool,
              compiler: str | None = None) -> dict[str, tuple[Path | None, str]]:
    with ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 1)) as pool:
        done = pool.map(lambda s: build(s, out, heapviz_cc, compiler), sources)
        return {s.stem: r for s, r in zip(sources, done, strict=True)}


# --------------------------------------------------------------------------------------------
# Reports
# --------------------------------------------------------------------------------------------


@dataclass
class Report:
    """A valgrind-style report (valgrind's or heapviz's), prefixes removed."""

    text: str
    returncode: int = 0
    stdout: str = ""
    records: list[list[str]] = field(default_factory=list)

    @classmethod
    def of(cls, p: subprocess.CompletedProcess[str]) -> Report:
        text = PREFIX.sub("", p.stderr)
        return cls(text, p.returncode, p.stdout, records(text))

    def errors(self) -> list[list[str]]:
        return [r for r in self.records if r[0].startswith(ERROR_HEADS)]

    def leak_summary(self) -> dict[str, tuple[int, int]]:
        out = {k: (0, 0) for k in KINDS}
        for kind, size, blocks in re.findall(
                r"^\s*(definitely lost|indirectly lost|possibly lost|still reachable): "
                r"([\d,]+) bytes in ([\d,]+) blocks", self.text, re.M):
            out[kind] = (int(size.replace(",", "")), int(blocks.replace(",", "")))
        return out

    def loss_records(self, source: str) -> list[tuple[str, tuple[int, ...]]]:
        """(headline, the lines of `source` in its stack) of each loss record shown."""
        out = []
        for r in self.records:
            if " in loss record " in r[0]:
                out.append((r[0], lines_in(r, source)))
        return out

    def signal_line(self) -> str | None:
        m = re.search(r"^Process terminating with default action of signal \d+ \(\w+\)",
                      self.text, re.M)
        return m.group(0) if m else None


def lines_in(record: list[str], source: str) -> tuple[int, ...]:
    """The line numbers of `source` (a file name) in a record's stacks, in order."""
    return tuple(int(n) for n in re.findall(rf"\({re.escape(source)}:(\d+)\)",
                                            "\n".join(record)))


def first_line(record: list[str], source: str) -> int | None:
    """The innermost frame in the student's file: the first `(source:N)` of the record's
    own stack (before the "Address …" description)."""
    for line in record[1:]:
        if line.startswith(" Address") or not line.startswith("   "):
            break
        m = re.search(rf"\({re.escape(source)}:(\d+)\)", line)
        if m:
            return int(m.group(1))
    return None


def kind(record: list[str]) -> str:
    """An error's kind for comparison: an uninitialised read is one kind (heapviz reports
    it at the load, valgrind at the use); sizes of accesses stay part of it."""
    head = record[0]
    if head.startswith(UNINIT_HEADS):
        return "uninitialised"
    if head.startswith("Source and destination overlap in"):
        m = re.search(r", (\d+)\)$", head)
        return "overlap" + (f" {m.group(1)}" if m else "")
    return head


def valgrind(exe: Path, args: tuple[str, ...] = (), stdin: str | None = None,
             origins: bool = False) -> Report:
    p = run([VALGRIND or "valgrind", "--leak-check=full", "--show-leak-kinds=all",
             f"--track-origins={'yes' if origins else 'no'}", str(exe), *args], timeout=180,
            stdin=stdin)
    return Report.of(p)


def heapviz_run(exe: Path | str, args: tuple[str, ...] = (), options: tuple[str, ...] = (),
                stdin: str | None = None, timeout: float = 60) -> Report:
    p = run([*HEAPVIZ, "run", "--show-leak-kinds=all", *options, "--", str(exe), *args],
            timeout=timeout, stdin=stdin)
    return Report.of(p)
