"""The C runtime under real programs: `heapviz run PROGRAM` and `heapviz cc`.

- programs of the system (sort, grep, sed, awk, sh -c, python3 with threads, git, gcc) give
  the same output and exit status as natively, and no memory error; where valgrind is
  there, the same leak verdicts as valgrind;
- the heap is at 0x10000 (the first block at 0x10010, as a Python heap's), the same every
  run; alignments above 16 work; threads share one heap; a forked child has its own;
- LD_PRELOAD is dropped for the program's children unless --trace-children;
- static and setuid programs are refused clearly; bad options too;
- exit status, --error-exitcode, death by a signal, --leak-check=no|summary|full and
  --show-leak-kinds behave as valgrind's.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import stat
import subprocess
from pathlib import Path

import pytest
from c_programs import (
    EXAMPLES_C,
    GCC,
    HEAPVIZ,
    Report,
    build,
    clean_env,
    heapviz_run,
    needs_runtime,
    needs_valgrind,
    run,
    valgrind,
)

from heapviz.__main__ import _subparser, build_parser
from heapviz.native import cc, elf, launch

pytestmark = needs_runtime

PYTHON3 = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else shutil.which("python3")
THREADS_PY = """
import threading, json
out = []
def work(i):
    out.append(sum(len(json.dumps({"k": list(range(j))})) for j in range(150)) + i)
ts = [threading.Thread(target=work, args=(i,)) for i in range(6)]
[t.start() for t in ts]; [t.join() for t in ts]
print(sorted(out)[:3], len(out))
"""


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("crt")
    (d / "numbers.txt").write_text("".join(f"{(i * 7919) % 5003}\n" for i in range(5000)))
    return d


def _c(work: Path, name: str, text: str, heapviz_cc: bool = False,
       extra: tuple[str, ...] = ()) -> Path:
    src = work / f"{name}.c"
    src.write_text(text)
    exe, log = build(src, work, heapviz_cc=heapviz_cc, extra=extra)
    assert exe is not None, log
    return exe


SYSTEM = [
    ("sort", ["sort", "-n", "numbers.txt"]),
    ("grep", ["grep", "-c", "^4", "numbers.txt"]),
    ("sed", ["sed", "-n", "s/^1\\(.*\\)/one\\1/p", "numbers.txt"]),
    ("awk", ["awk", "{s += $1} END {print s, NR}", "numbers.txt"]),
    ("sh", ["sh", "-c", "echo start; for i in 1 2 3; do echo $i; done | wc -l; exit 3"]),
    ("python3", [PYTHON3 or "python3", "-c", THREADS_PY]),
    ("git", ["git", "--version"]),
    ("gcc", ["gcc", "--version"]),
]


@pytest.mark.parametrize("name,argv", SYSTEM, ids=[s[0] for s in SYSTEM])
def test_system_programs(name: str, argv: list[str], work: Path) -> None:
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed")
    native = run(argv, cwd=work)
    ours = run([*HEAPVIZ, "run", *argv], cwd=work, timeout=120)
    assert ours.stdout == native.stdout
    assert ours.returncode == native.returncode
    report = Report.of(ours)
    assert not report.errors(), ours.stderr  # no false error
    assert "ERROR SUMMARY:" in report.text and "HEAP SUMMARY:" in report.text


@needs_valgrind
@pytest.mark.parametrize("argv", [["sort", "-n", "numbers.txt"],
                                  ["sed", "-n", "s/1/X/p", "numbers.txt"]],
                         ids=["sort", "sed"])
def test_system_leaks_as_valgrind(argv: list[str], work: Path) -> None:
    exe = shutil.which(argv[0])
    assert exe
    theirs = Report.of(run(["valgrind", "--leak-check=full", exe, *argv[1:]], cwd=work,
                           timeout=180))
    ours = Report.of(run([*HEAPVIZ, "run", *argv], cwd=work))
    assert ours.leak_summary() == theirs.leak_summary()
    count = re.compile(r"in use at exit: ([\d,]+) bytes in ([\d,]+) blocks")
    assert count.search(ours.text).groups() == count.search(theirs.text).groups()


def test_quiet_is_quiet(work: Path) -> None:
    exe = _c(work, "quiet", "#include <stdlib.h>\nint main(void){ free(malloc(9)); }\n")
    p = run([*HEAPVIZ, "run", "-q", str(exe)])
    assert p.returncode == 0 and p.stderr == ""  # valgrind -q: nothing wrong, nothing said
    p = run([*HEAPVIZ, "run", "-q", "grep", "-c", "1", "numbers.txt"], cwd=work)
    assert "HEAP SUMMARY" not in p.stderr and "possibly lost in loss record" in p.stderr


# --------------------------------------------------------------------------------------------
# The heap itself
# --------------------------------------------------------------------------------------------

FIRST_BLOCK = r"""
#include <stdio.h>
#include <stdlib.h>
int main(void) { void *p = malloc(24), *q = malloc(300000); printf("%p %p\n", p, q);
                 free(p); free(q); return 0; }
"""


@pytest.mark.parametrize("heapviz_cc", [False, True], ids=["preload", "cc"])
def test_addresses_are_the_pictures(heapviz_cc: bool, work: Path) -> None:
    exe = _c(work, f"first{int(heapviz_cc)}", FIRST_BLOCK, heapviz_cc)
    outs = {heapviz_run(exe).stdout for _ in range(3)}
    assert outs == {"0x10010 0x7f0000000010\n"}  # the same every run


def test_no_pie_program_fits_below_its_code(work: Path) -> None:
    exe = _c(work, "nopie", FIRST_BLOCK, extra=("-no-pie",))
    r = heapviz_run(exe)
    assert r.returncode == 0 and r.stdout.startswith("0x10010 ")
    assert not r.errors()


def test_aligned_blocks(work: Path) -> None:
    src = EXAMPLES_C / "aligned.c"
    for heapviz_cc in (False, True):
        exe, log = build(src, work, heapviz_cc=heapviz_cc)
        assert exe, log
        r = heapviz_run(exe)
        assert r.stdout == "0 0 0 0\n", r.text
        assert not r.errors(), r.text
        assert r.leak_summary()["still reachable"] == (128, 1)  # not "possibly lost"


def test_threads_share_one_heap(work: Path) -> None:
    exe, log = build(EXAMPLES_C / "threads.c", work, heapviz_cc=True)
    assert exe, log
    for _ in range(3):
        r = heapviz_run(exe)
        assert r.returncode == 0 and r.stdout == "kept kept\n"
        assert not r.errors(), r.text
        assert r.leak_summary()["definitely lost"] == (24, 1)
        assert r.leak_summary()["still reachable"] == (128, 4)


FORK = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
    char *p = malloc(32);
    strcpy(p, "parent");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        strcpy(p, "child");
        char *q = malloc(100);
        printf("child %s %p\n", p, (void *)q);
        free(q);
        free(p);
        return 0;
    }
    int status;
    waitpid(pid, &status, 0);
    char *r = malloc(100);
    printf("parent %s %p\n", p, (void *)r);
    free(r);
    free(p);
    return 0;
}
"""


@pytest.mark.parametrize("heapviz_cc", [False, True], ids=["preload", "cc"])
def test_fork_child_has_its_own_heap(heapviz_cc: bool, work: Path) -> None:
    exe = _c(work, f"fork{int(heapviz_cc)}", FORK, heapviz_cc)
    r = heapviz_run(exe)
    # the child's malloc and free did not reach the parent's heap: same address again
    assert r.stdout == "child child 0x10040\nparent parent 0x10040\n", r.text
    assert r.returncode == 0 and not r.errors()
    assert r.text.count("All heap blocks were freed") == 2  # each process checks its own


CHILDREN = r"""
#include <stdlib.h>
int main(void) { return system("echo \"child preload: ${LD_PRELOAD:-none}\"") ? 1 : 0; }
"""


def test_children_run_natively(work: Path) -> None:
    exe = _c(work, "children", CHILDREN)
    r = heapviz_run(exe)
    assert r.stdout == "child preload: none\n"
    traced = heapviz_run(exe, options=("--trace-children",))
    assert "libheapviz_rt.so" in traced.stdout
    assert traced.text.count("ERROR SUMMARY") >= 2  # the shell ran on heapviz too


# --------------------------------------------------------------------------------------------
# Refusals and options
# --------------------------------------------------------------------------------------------


def test_static_program_refused(work: Path) -> None:
    src = work / "static.c"
    src.write_text("int main(void) { return 0; }\n")
    exe = work / "static"
    p = subprocess.run([GCC or "gcc", "-static", "-o", str(exe), str(src)],
                       capture_output=True, check=False)
    if p.returncode:
        pytest.skip("no static libc to link with (libc6-dev)")
    assert not elf.inspect(str(exe)).dynamic
    r = run([*HEAPVIZ, "run", str(exe)])
    assert r.returncode == 2
    assert "statically linked" in r.stderr and "heapviz cc" in r.stderr


def test_setuid_program_refused(work: Path) -> None:
    exe = work / "suid-true"
    shutil.copy(shutil.which("true") or "/bin/true", exe)
    os.chmod(exe, stat.S_IRWXU | stat.S_ISUID)
    r = run([*HEAPVIZ, "run", str(exe)])
    assert r.returncode == 2 and "setuid" in r.stderr


def test_missing_program() -> None:
    r = run([*HEAPVIZ, "run", "no-such-program-xyz"])
    assert r.returncode == 2 and "no such file" in r.stderr
    r = run([*HEAPVIZ, "run", "./no-such-program-xyz"])
    assert r.returncode == 2


def test_bad_options(work: Path) -> None:
    exe = _c(work, "ok", "int main(void) { return 0; }\n")
    env = clean_env(HEAPVIZ_OPTIONS="policy=bestest")
    p = run([*HEAPVIZ, "cc", "-o", str(work / "okcc"), str(work / "ok.c")])
    assert p.returncode == 0, p.stderr
    r = run([str(work / "okcc")], env=env)
    assert r.returncode == 1
    assert "cannot start: HEAPVIZ_OPTIONS: policy: 'bestest' is not a valid value" in r.stderr
    r = run([*HEAPVIZ, "run", "--leak-check=some", str(exe)])
    assert r.returncode == 2 and "invalid choice" in r.stderr
    r = run([*HEAPVIZ, "run", "--error-exitcode=300", str(exe)])
    assert r.returncode == 2 and "not an exit status" in r.stderr
    r = run([*HEAPVIZ, "run", "--png", str(work / "pics"), str(exe)])
    assert r.returncode == 2 and "not available for C programs yet" in r.stderr


def test_heap_options_reach_the_runtime(work: Path) -> None:
    exe = _c(work, "opts", FIRST_BLOCK)
    r = heapviz_run(exe, options=("--base", "0x200000", "--mmap-threshold", "0"))
    assert r.stdout.split()[0] == "0x200010"
    assert int(r.stdout.split()[1], 16) < 0x7f0000000000  # large blocks in the heap too
    r = heapviz_run(exe, options=("--policy", "buddy"))
    assert r.returncode == 0 and not r.errors()


LEAKY = r"""
#include <stdlib.h>
char *kept;
int main(int argc, char **argv) { kept = malloc(10); malloc(20); return argc > 1 ? 5 : 0; }
"""


def test_exit_status_and_error_exitcode(work: Path) -> None:
    exe = _c(work, "leaky", LEAKY)
    assert heapviz_run(exe).returncode == 0
    assert heapviz_run(exe, ("x",)).returncode == 5
    assert heapviz_run(exe, options=("--error-exitcode=42",)).returncode == 42
    clean = _c(work, "clean", "int main(void) { return 7; }\n")
    assert heapviz_run(clean, options=("--error-exitcode=42",)).returncode == 7


def test_leak_check_levels(work: Path) -> None:
    exe = _c(work, "leaky2", LEAKY)
    full = heapviz_run(exe, options=("--show-leak-kinds=definite",))
    assert "20 bytes in 1 blocks are definitely lost in loss record 2 of 2" in full.text
    assert "still reachable in loss record" not in full.text
    assert "To see them, rerun with: --leak-check=full --show-leak-kinds=all" in full.text
    every = heapviz_run(exe)  # --show-leak-kinds=all
    assert "10 bytes in 1 blocks are still reachable in loss record 1 of 2" in every.text
    summary = heapviz_run(exe, options=("--leak-check=summary",))
    assert "loss record" not in summary.text
    assert "Rerun with --leak-check=full to see details of leaked memory" in summary.text
    assert "ERROR SUMMARY: 0 errors" in summary.text
    no = heapviz_run(exe, options=("--leak-check=no",))
    assert "LEAK SUMMARY" not in no.text
    assert "For a detailed leak analysis, rerun with: --leak-check=full" in no.text


CRASH = r"""
#include <stdlib.h>
#include <string.h>
int *global;
int main(void)
{
    global = malloc(16);
    char *lost = malloc(8);
    lost = NULL;
    int *p = NULL;
    *p = 1;
    return 0;
}
"""


@pytest.mark.parametrize("heapviz_cc", [False, True], ids=["preload", "cc"])
def test_fatal_signal(heapviz_cc: bool, work: Path) -> None:
    exe = _c(work, f"crash{int(heapviz_cc)}", CRASH, heapviz_cc)
    p = run([*HEAPVIZ, "run", str(exe)])
    assert p.returncode == -signal.SIGSEGV  # died of it, as the program would
    r = Report.of(p)
    text = r.text
    at = text.index("Process terminating with default action of signal 11 (SIGSEGV)")
    assert " Access not within mapped region at address 0x0" in text
    assert re.search(r"at 0x[0-9A-F]+: main \(crash\d\.c:11\)", text[at:])
    assert text.index("HEAP SUMMARY") > at  # then the leak check
    assert r.leak_summary()["definitely lost"] == (8, 1)
    assert r.leak_summary()["still reachable"] == (16, 1)
    if heapviz_cc:  # the access itself, as valgrind says it, before the signal
        assert text.index("Invalid write of size 4") < at


def test_abort_is_no_crash_report(work: Path) -> None:
    exe = _c(work, "aborts", "#include <stdlib.h>\nint main(void){ abort(); }\n")
    p = run([*HEAPVIZ, "run", str(exe)])
    assert p.returncode == -signal.SIGABRT
    assert "Process terminating" not in p.stderr  # valgrind too: abort() is not a fault
    assert "ERROR SUMMARY" in p.stderr


# --------------------------------------------------------------------------------------------
# heapviz cc
# --------------------------------------------------------------------------------------------


def test_cc_command_line() -> None:
    line = cc.command(["-O2", "-o", "prog", "prog.c"], ["gcc"])
    assert "-fsanitize=kernel-address" in line and "asan-stack=0" in line
    assert "asan-instrumentation-with-call-threshold=0" in line
    assert "-g" in line and "-fno-builtin" in line and "-lheapviz_rt" in line
    assert line.index("-O2") > line.index("-fno-builtin")  # the user's flags after ours
    assert "-lheapviz_rt" not in cc.command(["-c", "prog.c"], ["gcc"])
    with pytest.raises(cc.CompilerError, match="static"):
        cc.command(["-static", "prog.c"], ["gcc"])
    with pytest.raises(cc.CompilerError, match="sanitizer"):
        cc.command(["-fsanitize=address", "prog.c"], ["gcc"])


@pytest.mark.skipif(shutil.which("clang") is None, reason="clang is not installed")
def test_cc_with_clang(work: Path) -> None:
    src = EXAMPLES_C / "data100.c"
    exe, log = build(src, work, heapviz_cc=True, compiler="clang")
    assert exe, log
    r = heapviz_run(exe)
    assert [e[0] for e in r.errors()] == ["Invalid write of size 4"]
    assert "(data100.c:13)" in r.errors()[0][1]
    assert r.stdout == "data[99] = 99\n"
    line = cc.command(["x.c"], ["clang"])
    assert "-mllvm" in line and "-asan-stack=0" in line


def test_cc_program_runs_on_its_own(work: Path) -> None:
    exe, log = build(EXAMPLES_C / "forgot_free.c", work, heapviz_cc=True)
    assert exe, log
    assert elf.inspect(str(exe)).heapviz_cc
    p = run([str(exe)])
    assert p.stdout == "numbers[9] = 81\n"
    assert "40 bytes in 1 blocks are definitely lost" in p.stderr
    assert "forgot_free.c:9" in p.stderr


def test_cc_errors_are_the_compilers(work: Path) -> None:
    src = work / "broken.c"
    src.write_text("int main(void) { return undefined_name; }\n")
    p = run([*HEAPVIZ, "cc", "-o", str(work / "broken"), str(src)])
    assert p.returncode != 0 and "undefined_name" in p.stderr
    p = run([*HEAPVIZ, "cc"])
    assert p.returncode == 2 and "no input files" in p.stderr


def test_run_takes_the_programs_own_options(work: Path) -> None:
    p = run([*HEAPVIZ, "run", "-q", "sort", "-n", "-r", "numbers.txt"], cwd=work)
    assert p.returncode == 0 and p.stdout.splitlines()[0] == "5002"
    assert launch.program_args(["-q", "sort", "-n"], _run_parser()) == \
        ["-q", "--", "sort", "-n"]
    assert launch.program_args(["x.hv", "--view"], _run_parser()) == ["x.hv", "--view"]


def _run_parser() -> argparse.ArgumentParser:
    return _subparser(build_parser(), "run")


@needs_valgrind
def test_valgrind_agrees_on_a_system_program_leak(work: Path) -> None:
    exe = _c(work, "vgleak", LEAKY)
    assert valgrind(exe).leak_summary() == heapviz_run(exe).leak_summary()


def test_arena_is_handed_over(work: Path) -> None:
    """The seam for the viewer (issue 12): the launcher gets the program's arena, a memfd
    holding heapviz's arena header, before the program runs."""
    src = work / "waits.c"
    src.write_text("#include <stdlib.h>\n#include <string.h>\n#include <unistd.h>\n"
                   "int main(void){ char *p = malloc(64); strcpy(p, \"in the arena\");\n"
                   "  read(0, p + 32, 1); free(p); return 0; }\n")
    exe, log = build(src, work, heapviz_cc=False)
    assert exe, log
    env = launch.environment(str(exe), "quiet=true", clean_env())
    proc, fd = launch.start(str(exe), [str(exe)], env, arena=True)
    try:
        assert fd is not None
        size = os.fstat(fd).st_size
        with open(fd, "rb", closefd=False) as f:
            assert f.read(8) == (0x48454150564F).to_bytes(8, "little")  # "HEAPVIZ"
        assert size > 1 << 30  # the whole arena: tables, shadow, a 1 GiB heap
    finally:
        proc.wait(timeout=30)
        if fd is not None:
            os.close(fd)
    assert proc.returncode == 0


def test_fortified_build(work: Path) -> None:
    """_FORTIFY_SOURCE turns libc calls into __*_chk variants: heapviz checks them too,
    then glibc's own check aborts the overflow, as it does natively."""
    src = work / "fortified.c"
    src.write_text(r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv)
{
    char *a = malloc(16), *b = malloc(32);
    strcpy(a, "fortified");
    memcpy(b, a, 10);
    strcat(b, "!");
    snprintf(b + 16, 16, "%s", a);
    printf("%s %s\n", b, b + 16);
    fflush(stdout);
    memset(a, 'x', 16 + (size_t)argc); /* <- error: one too many */
    free(a);
    free(b);
    return 0;
}
""")
    exe, log = build(src, work, heapviz_cc=True, extra=("-O2", "-D_FORTIFY_SOURCE=2"))
    assert exe, log
    symbols = subprocess.run(["nm", "-D", str(exe)], capture_output=True, text=True).stdout
    assert "__memset_chk" in symbols and "__printf_chk" in symbols
    native = run([str(exe)])
    p = run([*HEAPVIZ, "run", str(exe)])
    r = Report.of(p)
    assert p.stdout == native.stdout == "fortified! fortified\n"
    assert p.returncode == native.returncode == -signal.SIGABRT
    assert "buffer overflow detected" in p.stderr
    [err] = r.errors()
    assert err[0] == "Invalid write of size 1"
    assert re.search(r"at 0x[0-9A-F]+: memset \(in .*libheapviz_cc\.so\)", err[1])
    assert "(fortified.c:14)" in "\n".join(err)


def test_quarantine_catches_reuse(work: Path) -> None:
    """First fit hands a freed block to the next malloc at once, so a dangling write then
    lands in a live block; held back in a quarantine, it is caught as valgrind catches it."""
    src = Path(__file__).parent / "errors" / "c" / "use_after_free_reused.c"
    exe, log = build(src, work, heapviz_cc=True)
    assert exe, log
    plain = heapviz_run(exe)
    assert not plain.errors() and plain.stdout == "99\n"  # the write went to `fresh`
    held = heapviz_run(exe, options=("--quarantine=64K",))
    assert [e[0] for e in held.errors()] == ["Invalid write of size 4"]
    text = "\n".join(held.errors()[0])
    assert "0 bytes inside a block of size 16 free'd" in text
    assert "(use_after_free_reused.c:11)" in text and "(use_after_free_reused.c:8)" in text
    assert held.stdout == "1\n"
    assert "All heap blocks were freed" in held.text  # held blocks are no leaks
    twice = _c(work, "twice", "#include <stdlib.h>\nint main(void){ char *p = malloc(8);\n"
               "free(p); free(p); return 0; }\n")
    r = heapviz_run(twice, options=("--quarantine=1M",))
    assert [e[0] for e in r.errors()] == ["Invalid free() / delete / delete[] / realloc()"]
    assert "free'd" in "\n".join(r.errors()[0])
