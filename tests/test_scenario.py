"""Scenario files and `python -m heapviz run`: the format, the runner, scripts, the outputs."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import heapviz
from heapviz import recording, render, scenario
from heapviz.__main__ import main as cli
from heapviz.scenario import Ref, ScenarioError, parse

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
needs_renderer = pytest.mark.skipif(not render.available(), reason="the SDL renderer is not built")


def run_text(text: str, **options: object) -> tuple[scenario.Runner, list[scenario.StepResult]]:
    sc = parse(text, "t.hv")
    h = scenario.make_heap({**sc.options, **options})
    r = scenario.Runner(sc, h)
    return r, r.run()


def cli_run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = cli(argv)
    out, err = capsys.readouterr()
    return rc, out, err


# --------------------------------------------------------------------------------------------
# The format
# --------------------------------------------------------------------------------------------


def test_every_statement_parses() -> None:
    sc = parse(
        """# comment
        heap policy=best order=lifo coalesce=deferred align=8 size=8K max_size=1M base=0x20000 \
mmap_threshold=64K split_threshold=32 checks=report footer=no magic=yes
        p = malloc 100          # trailing comment
        q = calloc 10 sizeof(int)
        p = realloc p 2*100+8
        s = strdup "a \\"quoted\\" \\x41\\n"
        m = mmap 8192
        r = p + 16
        n = NULL
        w = 0x1234
        write p "hi" 0
        write p[3] 7
        write q:int[2] -5 6
        read p 3
        read q:int[1]
        strcpy p "hey"
        memset p 0 10
        memcpy q p 4
        free q
        munmap m
        sbrk 4096
        note "a note"
        enter main
        b = local 32
        leave
        expect DoubleFree
        free q
        check
        """, "all.hv")
    assert sc.options == dict(policy="best", order="lifo", coalesce="deferred", align=8,
                              size=8192, max_size=1 << 20, base=0x20000,
                              mmap_threshold=65536, split_threshold=32, checks="report",
                              footer=False, magic=True)
    ops = [s.op for s in sc.steps]
    assert ops == ["malloc", "calloc", "realloc", "strdup", "mmap", "assign", "assign",
                   "assign", "write", "write", "write", "read", "read", "strcpy", "memset",
                   "memcpy", "free", "munmap", "sbrk", "note", "enter", "local", "leave",
                   "free", "check"]
    assert sc.steps[1].args == (10, 4)
    assert sc.steps[2].args == (Ref("p"), 208)
    assert sc.steps[3].args == (b'a "quoted" A\n',)
    assert sc.steps[5].args == (Ref("p", offset=16),)
    assert sc.steps[7].args == (Ref(None, 0x1234),)
    assert sc.steps[9].args == (Ref("p", index=3), (7,))
    assert sc.steps[10].args == (Ref("q", ctype="int", index=2), (-5, 6))
    assert sc.steps[-2].expect == "DoubleFree"
    assert sc.steps[2].line == 5 and sc.steps[2].target == "p"


@pytest.mark.parametrize(("text", "line", "words"), [
    ("p = malloc", 1, "malloc's size is missing"),
    ("p = malloc x", 1, "must be a number"),
    ("free", 1, "pointer is missing"),
    ("p = frob 3", 1, "unknown allocator 'frob'"),
    ("p = 3 3", 1, "unexpected '3' after the value"),
    ("p = ]", 1, "must be a variable"),
    ("frob p", 1, "unknown command 'frob'"),
    ("\n\nwrite p", 3, "write needs a value"),
    ('write p "abc', 1, "not closed"),
    ('write p "\\q"', 1, "unknown escape"),
    ("p = malloc 10 $", 1, "unexpected character '$'"),
    ("p = malloc 10 20", 1, "unexpected '20'"),
    ("heap policy=fastest", 1, "policy must be one of"),
    ("heap colour=red", 1, "unknown heap option 'colour'"),
    ("p = malloc 1\nheap size=4K", 2, "before the first step"),
    ("heap size=4K\nheap size=8K", 2, "second heap line"),
    ("expect Nonsense\nfree p", 1, "cannot expect 'Nonsense'"),
    ("expect DoubleFree", 1, "not followed by a step"),
    ("expect DoubleFree\nexpect DoubleFree\nfree p", 2, "two expects in a row"),
    ("expect NULL\nfree p", 2, "needs an allocation step"),
    ("free = malloc 3", 1, "is a command, not a variable"),
    ("p = malloc sizeof(struct foo)", 1, "unknown C type"),
    ("write p:blah[0] 1", 1, "unknown C type"),
    ("p = malloc " + "(" * 40 + "1" + ")" * 40, 1, "nested parentheses"),
    ("p = malloc 99999999999999999999999999999999999999999999", 1, "too large"),
    ("p = malloc 4Q", 1, "is not a number"),
    ("free p 3", 1, "unexpected '3'"),
    ("p = q\nfree p q", 2, "unexpected 'q'"),
    ("check now", 1, "unexpected 'now'"),
])
def test_malformed_lines_name_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse(text, "bad.hv")
    assert info.value.line == line
    assert str(info.value).startswith(f"bad.hv:{line}: ")
    assert words in str(info.value)


def test_sizes() -> None:
    assert [scenario.parse_size(s) for s in ("4096", "0x1000", "4K", "4KiB", "1M", "2MiB",
                                             "1_000")] == [4096, 4096, 4096, 4096, 1 << 20,
                                                           2 << 20, 1000]
    for bad in ("", "4Q", "K", "-1", "1.5"):
        with pytest.raises(ValueError):
            scenario.parse_size(bad)


def test_read_reports_unreadable_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read it"):
        scenario.read(tmp_path / "missing.hv")
    (tmp_path / "bin.hv").write_bytes(b"p = malloc 1\n\xff\xfe")
    with pytest.raises(ScenarioError, match=r"bin.hv:2: not a text file"):
        scenario.read(tmp_path / "bin.hv")
    (tmp_path / "nul.hv").write_bytes(b"\n\np = malloc 1\0")
    with pytest.raises(ScenarioError, match=r"nul.hv:3: not a text file"):
        scenario.read(tmp_path / "nul.hv")


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


def test_runs_on_the_heap_as_c_would() -> None:
    r, res = run_text("""
        p = malloc 100
        write p "hello" 0
        q = strdup "abc"
        read q 4
        a = calloc 4 sizeof(int)
        write a:int[3] 1000
        read a:int[3]
        p = realloc p 300
        read p 6
        free q
        """)
    assert all(x.ok for x in res), [x.failure for x in res]
    assert res[0].address == 0x10010
    assert res[3].value == b"abc\0"
    assert res[6].value == 1000
    assert res[8].value == b"hello\0"  # realloc kept the content
    h = r.heap
    assert [b.requested for b in h.blocks() if b.state == "allocated"] == [16, 300]
    assert h.check() == []


def test_expected_errors_pass_and_sites_name_the_line() -> None:
    r, res = run_text("""
        p = malloc 8
        expect BufferOverflow
        write p[8] 1
        free p
        expect DoubleFree
        free p
        expect UseAfterFree
        read p 1
        x = malloc 4
        expect UninitializedRead
        read x 4
        expect InvalidFree
        free x + 1
        expect Leak
        x = NULL
        expect NULL
        big = malloc 1G
        s = NULL
        expect SegmentationFault
        write s[0] 1
        expect FishyValue
        m = malloc -1
        enter f
        loc = local 16
        leave
        expect UseAfterReturn
        read loc 1
        """)
    assert [x.failure for x in res if not x.ok] == []
    assert len(res) == 17
    caught = [type(x.errors[0]).__name__ for x in res if x.errors]
    assert caught == ["BufferOverflow", "DoubleFree", "UseAfterFree", "UninitializedRead",
                      "InvalidFree", "SegmentationFault", "FishyValue", "UseAfterReturn"]
    overflow = res[1].errors[0]
    assert "t.hv:4" in str(overflow) and "t.hv:2" in str(overflow)  # where, and alloc'd at
    sites = {str(e.site) for e in r.heap.events if e.kind == "malloc"}
    assert sites >= {"t.hv:2", "t.hv:10"}
    assert res[8].lost == 1


@pytest.mark.parametrize(("text", "words"), [
    ("p = malloc 8\nwrite p[8] 1", "t.hv:2: write p[8] 1: unexpected BufferOverflow"),
    ("p = malloc 8\nexpect DoubleFree\nfree p", "expected DoubleFree, but the step ran "
     "without an error"),
    ("p = malloc 8\nexpect DoubleFree\nwrite p[9] 1", "expected DoubleFree, but got "
     "BufferOverflow"),
    ("expect NULL\np = malloc 8", "expected NULL (the request to fail), but it returned 0x"),
    ("p = malloc 8\nexpect Leak\nfree p", "expected a leak"),
    ("free q", "q is not defined"),
    ("p = malloc 8\nwrite p 300", "300 is not a byte"),
    ("p = malloc 8\nwrite p:int[0] \"x\"", "cannot be written into int"),
    ("p = malloc 8\nwrite p:int[0] 99999999999", "OverflowError"),
    ("p = malloc 99999999999999999999999", "does not fit"),
    ("leave", "leave without enter"),
    ("x = local 8", "needs a function frame"),
    ("p = malloc 8\nmemset p 256 1", "0..255"),
])
def test_failures_stop_the_run_with_a_clear_message(text: str, words: str) -> None:
    r, res = run_text(text)
    assert not res[-1].ok and all(x.ok for x in res[:-1])
    assert words in (res[-1].failure or ""), res[-1].failure
    assert r.failure is res[-1]


def test_report_mode_goes_on_after_reported_errors() -> None:
    _, res = run_text("""
        heap checks=report
        p = malloc 8
        expect BufferOverflow
        write p[8] 1
        read p 1
        """)
    assert [x.ok for x in res] == [True, True, False]
    assert "UninitializedRead" in (res[-1].failure or "")


def test_pointer_arithmetic_and_typed_pointers() -> None:
    _r, res = run_text("""
        a = malloc 40
        b = a + 8
        write b:int[1] 7
        read a:int[3]
        n = malloc 16
        write n:void*[0] a
        read n:void*[0]
        """)
    assert all(x.ok for x in res), [x.failure for x in res]
    assert res[3].value == 7
    assert res[6].address == res[0].address


def test_writes_are_events_with_their_bytes() -> None:
    r, _ = run_text('p = malloc 8\nwrite p "abc"')
    writes = [e for e in r.heap.events if e.kind == "write"]
    assert [(w.address, w.size) for w in writes] == [(0x10010, 3)]
    assert r.heap.write_data[writes[0].seq] == b"abc"


# --------------------------------------------------------------------------------------------
# Fuzzing: the parser and the runner never crash
# --------------------------------------------------------------------------------------------

WORDS = ["p", "q", "=", "malloc", "calloc", "realloc", "free", "write", "read", "strcpy",
         "memset", "memcpy", "sbrk", "mmap", "munmap", "local", "enter", "leave", "note",
         "check", "expect", "heap", "NULL", "sizeof", "(", ")", "[", "]", ":", "+", "-", "*",
         "int", "void*", "16", "0", "-1", "0x10", "4K", "1e999", "99999999999999999999",
         '"hi"', '"\\x4"', '"', "#", "policy=best", "size=", "DoubleFree", "Leak", "$", "é",
         "\t", "\\", "1.5"]


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join), max_size=6)
       .map("\n".join) | st.text(max_size=200))
def test_fuzz_parser_raises_only_scenario_errors(text: str) -> None:
    try:
        sc = parse(text, "fuzz.hv")
    except ScenarioError as e:
        assert str(e).startswith("fuzz.hv")
        assert "\n" not in e.reason
        return
    assert all(isinstance(s, scenario.Step) for s in sc.steps)


NAMES = st.sampled_from(["p", "q", "r"])
SIZES = st.sampled_from(["0", "1", "16", "100", "4000", "9000", "-1", "200K", "1G"])
PTR = st.one_of(NAMES, NAMES.map(lambda n: f"{n} + 8"), st.just("NULL"), st.just("0x10010"))
LINE = st.one_of(
    st.tuples(NAMES, SIZES).map(lambda t: f"{t[0]} = malloc {t[1]}"),
    st.tuples(NAMES, SIZES, SIZES).map(lambda t: f"{t[0]} = calloc {t[1]} {t[2]}"),
    st.tuples(NAMES, PTR, SIZES).map(lambda t: f"{t[0]} = realloc {t[1]} {t[2]}"),
    PTR.map(lambda p: f"free {p}"),
    st.tuples(NAMES, st.integers(-4, 40)).map(lambda t: f'write {t[0]}[{t[1]}] "ab"'),
    st.tuples(NAMES, st.integers(-2, 10)).map(lambda t: f"write {t[0]}:int[{t[1]}] 5"),
    st.tuples(NAMES, st.integers(0, 40)).map(lambda t: f"read {t[0]} {t[1]}"),
    NAMES.map(lambda n: f"{n} = NULL"),
    st.tuples(NAMES, NAMES).map(lambda t: f"memcpy {t[0]} {t[1]} 8"),
    st.just("check"), st.just("enter f"), st.just("leave"), st.just("x = local 8"),
    st.tuples(NAMES, SIZES).map(lambda t: f"{t[0]} = mmap {t[1]}"),
    PTR.map(lambda p: f"munmap {p}"),
    SIZES.map(lambda n: f"sbrk {n}"),
    st.tuples(NAMES, SIZES).map(lambda t: f"memset {t[0]} 7 {t[1]}"),
    st.tuples(NAMES, st.sampled_from(['"hi"', '"a long string, longer than most blocks"']))
    .map(lambda t: f"strcpy {t[0]} {t[1]}"),
    NAMES.map(lambda n: f'{n} = strdup "xyz"'),
    st.tuples(NAMES, NAMES).map(lambda t: f"write {t[0]}:void*[0] {t[1]}"),
    st.tuples(NAMES, st.integers(-3, 3)).map(lambda t: f"read {t[0]}:long[{t[1]}]"),
    st.just('note "n"'),
    st.sampled_from(["expect DoubleFree", "expect BufferOverflow", "expect NULL",
                     "expect Leak"]).map(lambda e: e + "\np = malloc 8"),
)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(["strict", "report", "off"]),
       st.sampled_from(["first", "best", "segregated", "buddy"]),
       st.lists(LINE, max_size=14))
def test_fuzz_runner_never_crashes(checks: str, policy: str, lines: list[str]) -> None:
    sc = parse("\n".join(lines), "fuzz.hv")
    h = scenario.make_heap({"checks": checks, "policy": policy})
    r = scenario.Runner(sc, h)
    res = r.run()
    for x in res[:-1]:
        assert x.ok
    if res and not res[-1].ok:
        assert res[-1].failure and res[-1].failure.startswith("fuzz.hv:")
    if not any(isinstance(e, heapviz.HeapCorruption) for x in res for e in x.errors):
        h.checks = "off"
        if checks == "strict":
            assert h.check() == []
    h.checks = "off"
    with contextlib.redirect_stderr(io.StringIO()):
        h.close()
    r.vars.clear()


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.hv")) +
                         sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_examples_run(example: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _out, err = cli_run(["run", str(EXAMPLES / example)], capsys)
    assert rc == 0, err
    assert "Traceback" not in err


def test_run_scenario_log_and_failure_status(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "s.hv"
    f.write_text("p = malloc 10\nexpect DoubleFree\nfree p\n")
    rc, out, err = cli_run(["run", str(f), "--policy", "best"], capsys)
    assert rc == 1
    assert "policy best" in out
    assert re.search(r"^\s+1\s+p = malloc 10\s+→ 0x10010$", out, re.M)
    assert f"{f}:3: free p: expected DoubleFree, but the step ran without an error" in err
    f.write_text("p = malloc 10\nfree p\nexpect DoubleFree\nfree p\n")
    rc, out, err = cli_run(["run", str(f), "-v"], capsys)
    assert rc == 0 and "✓ DoubleFree (expected)" in out and "│ Invalid free()" in out


def test_run_malformed_or_missing_file_is_a_clear_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "s.hv"
    f.write_text("p = malloc 10\nwrite p \"open\n")
    rc, _out, err = cli_run(["run", str(f)], capsys)
    assert rc == 2 and f"{f}:2: this string is not closed" in err and "Traceback" not in err
    rc, _, err = cli_run(["run", str(tmp_path / "nope.hv")], capsys)
    assert rc == 2 and "no such file" in err
    f.write_text("heap size=4K\np = malloc 1")
    rc, _, err = cli_run(["run", str(f), "--size", "1G", "--max-size", "1M"], capsys)
    assert rc == 2 and "cannot make the heap" in err


@needs_renderer
def test_run_scenario_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "s.hv"
    f.write_text("p = malloc 100\nq = malloc 50\nwrite q \"hi\"\nfree p\n")
    png, gif, rec = tmp_path / "steps", tmp_path / "run.gif", tmp_path / "run.hvlog"
    rc, out, err = cli_run(["run", str(f), "--png", str(png), "--gif", str(gif), "--record",
                            str(rec), "--width", "600"], capsys)
    assert rc == 0, err
    pics = sorted(p.name for p in png.iterdir())
    assert pics == [f"step{i:03d}.png" for i in range(5)]
    assert png.joinpath("step000.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert gif.read_bytes()[:6] == b"GIF89a"
    assert f"recording: {rec}" in out and f"pictures: {png}/ (5 steps)" in out
    r = recording.load(str(rec))
    assert r.steps == 4 and r.state(4).stats.in_use == 64


def test_view_without_a_display_is_a_clear_error(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    rc, _, err = cli_run(["run", str(EXAMPLES / "basics.hv"), "--view"], capsys)
    assert rc == 2 and "--view needs a display" in err


def test_run_python_script_with_the_given_heap(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "lesson.py"
    f.write_text("p = heap.malloc(32)\nq = h.malloc(64)\nheap.free(p)\n"
                 "print('policy', heap.policy)\n")
    rec = tmp_path / "out.hvlog"
    rc, out, err = cli_run(["run", str(f), "--policy", "worst", "--record", str(rec)], capsys)
    assert rc == 0, err
    assert "policy worst" in out
    r = recording.load(str(rec))
    assert r.config["policy"] == "worst"
    assert [str(e.site) for e in r.events if e.kind in ("malloc", "free")] == [
        f"{f}:1", f"{f}:2", f"{f}:3"]


def test_run_python_script_that_makes_its_own_heap(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "own.py"
    f.write_text("import heapviz\nfrom heapviz import Heap\n"
                 "with Heap(8192, policy='first') as h:\n"
                 "    p = h.malloc(10)\n    print(h.policy, h.stats().heap_size)\n"
                 "h2 = heapviz.Heap()\nh2.malloc(5)\n")
    rec = tmp_path / "o.hvlog"
    rc, out, err = cli_run(["run", str(f), "--policy", "buddy", "--record", str(rec)], capsys)
    assert rc == 0, err
    assert "buddy 8192" in out  # the command line's policy applies; the script's size stays
    # one recording per heap the script used: the first as named, the second with -2
    assert recording.load(str(rec)).config["policy"] == "buddy"
    second = recording.load(str(tmp_path / "o-2.hvlog"))
    # malloc(5), and its result dropped at once: a lost block
    assert [e.kind for e in second.events if e.kind in ("malloc", "lost")] == ["malloc", "lost"]
    assert heapviz.Heap is heapviz.heap.Heap  # the swap is undone


def test_run_python_script_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bad.py"
    f.write_text("p = heap.malloc(4)\np[4] = 1\n")
    rc, _, err = cli_run(["run", str(f)], capsys)
    assert rc == 1 and "BufferOverflow" in err and "bad.py:2" in err
    f.write_text("import sys\nx = 1 / 0\n")
    rc, _out, err = cli_run(["run", str(f)], capsys)
    assert rc == 1 and "ZeroDivisionError" in err and "bad.py" in err
    assert "heapviz/scenario.py" not in err
    f.write_text("import sys\nsys.exit(3)\n")
    assert cli_run(["run", str(f)], capsys)[0] == 3


def test_run_a_recording(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    h = heapviz.Heap(policy="best")
    ps = [h.malloc(n) for n in (10, 20, 30)]
    h.free(ps[1])
    h.save(str(tmp_path / "r.hvlog"))
    rc, out, err = cli_run(["run", str(tmp_path / "r.hvlog")], capsys)
    assert rc == 0, err
    assert "4 steps" in out and "policy best" in out


def test_heap_from_file(tmp_path: Path) -> None:
    f = tmp_path / "s.hv"
    f.write_text("p = malloc 10\nq = malloc 20\nfree p\n")
    h = scenario.heap_from_file(str(f), policy="best")
    assert h.policy == "best" and h.stats().alloc_blocks == 1
    h.save(str(tmp_path / "s.hvlog"))
    h2 = scenario.heap_from_file(str(tmp_path / "s.hvlog"))
    assert h2.blocks() == h.blocks()
    py = tmp_path / "s.py"
    py.write_text("a = heap.malloc(100)\n")
    h3 = scenario.heap_from_file(str(py))
    assert h3.stats().alloc_blocks == 1
    for x in (h, h2, h3):
        x.checks = "off"
        x.close()


def test_run_help_in_a_subprocess() -> None:
    out = subprocess.run([sys.executable, "-m", "heapviz", "run", "--help"], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for flag in ("--policy", "--order", "--coalesce", "--align", "--size", "--checks",
                 "--view", "--png", "--gif", "--record"):
        assert flag in out.stdout
