"""`python -m heapviz trace`: the malloc-lab trace parser and replay, end to end."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heapviz import trace as tr
from heapviz.__main__ import main as cli

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "traces"


def rep(ops: list[str], ids: int | None = None, header_ops: int | None = None) -> str:
    n_ids = ids if ids is not None else 1 + max(int(o.split()[1]) for o in ops)
    n_ops = header_ops if header_ops is not None else len(ops)
    return "\n".join(["20000", str(n_ids), str(n_ops), "1", *ops]) + "\n"


def random_ops(n: int, seed: int, max_size: int = 3000) -> list[str]:
    """A balanced random trace with reallocs: n ids."""
    rng = random.Random(seed)
    ops, live, nxt = [], [], 0
    while nxt < n or live:
        r = rng.random()
        if nxt < n and (not live or r < 0.45):
            ops.append(f"a {nxt} {rng.randint(1, max_size)}")
            live.append(nxt)
            nxt += 1
        elif live and r < 0.6:
            ops.append(f"r {rng.choice(live)} {rng.randint(1, 2 * max_size)}")
        else:
            ops.append(f"f {live.pop(rng.randrange(len(live)))}")
    return ops


@pytest.fixture
def traces(tmp_path: Path) -> list[Path]:
    """Synthetic traces: random with reallocs, binary (alternating sizes), realloc growth,
    coalescing."""
    binary = [f"a {i} {64 if i % 2 == 0 else 448}" for i in range(40)]
    binary += [f"f {i}" for i in range(1, 40, 2)]
    binary += [f"a {40 + i} 512" for i in range(20)]
    binary += [f"f {i}" for i in range(0, 40, 2)] + [f"f {40 + i}" for i in range(20)]
    grow = ["a 0 100"] + [f"r 0 {100 + 64 * k}" for k in range(1, 40)] + ["f 0"]
    coal = []
    for k in range(10):
        i = 3 * k
        coal += [f"a {i} 4095", f"a {i + 1} 4095", f"f {i}", f"f {i + 1}", f"a {i + 2} 8190",
                 f"f {i + 2}"]
    paths = []
    for name, ops in (("random", random_ops(60, 1)), ("binary", binary), ("grow", grow),
                      ("coalesce", coal)):
        p = tmp_path / f"{name}.rep"
        p.write_text(rep(ops))
        paths.append(p)
    return paths


# --- the parser ------------------------------------------------------------------------------


def test_parse_counts_and_peak() -> None:
    t = tr.parse_trace(rep(["a 0 10", "a 1 20", "r 0 40", "f 1", "a 2 5", "f 0", "f 2"]), "x")
    assert (t.num_ids, t.num_ops, t.suggested_heap, t.weight) == (3, 7, 20000, 1)
    assert t.ops[2] == tr.TraceOp("r", 0, 40, 7)
    assert t.peak_live == 60  # 40 + 20 after the realloc
    assert tr.parse_trace(t.text(), "x").ops == t.ops


def test_header_may_share_lines_and_blank_lines_are_skipped() -> None:
    t = tr.parse_trace("100 1\n\n2 0\na 0 8\n\n  f 0  \n", "x")
    assert [o.line for o in t.ops] == [4, 6]
    assert t.weight == 0


def test_realloc_to_zero_frees() -> None:
    t = tr.parse_trace(rep(["a 0 8", "r 0 0", "a 0 16", "f 0"]), "x")
    assert t.peak_live == 16


MALFORMED = [
    ("", 1, "empty trace"),
    ("100\n2\n", 2, "ends inside its header"),
    ("100\nx\n2\n1\n", 2, "number of block ids must be a whole number"),
    ("100\n-1\n2\n1\n", 2, "whole number"),
    ("100 1 1 1 a 0 8\n", 1, "after the four header numbers"),
    (rep(["a 0 8", "q 0", "f 0"], header_ops=3), 6, "unknown operation 'q'"),
    (rep(["a 0 8", "f 0 3"]), 6, "takes 1 number, found 2"),
    (rep(["a 0", "f 0"]), 5, "takes 2 numbers, found 1"),
    (rep(["a 0 8", "f 0"], ids=1, header_ops=1), 6, "more operations than the 1"),
    (rep(["a 0 8", "f 0"], header_ops=3), 6, "ends after 2 operations"),
    (rep(["a 5 8", "f 5"], ids=2), 5, "block id 5 is out of range"),
    (rep(["a 0 8x", "f 0"]), 5, "the size must be a whole number"),
    (rep(["a 0 8", "a 0 8", "f 0"]), 6, "allocated again"),
    (rep(["a 0 8", "f 0", "f 0"]), 7, "which is not allocated (freed at line 6)"),
    (rep(["a 1 8", "r 0 8", "f 1"], ids=2), 6, "reallocates block 0, which is not allocated"),
    (rep(["a 0 99999999999999999", "f 0"]), 5, "too large"),
    (rep(["a 0 ٣", "f 0"]), 5, "whole number"),
]


@pytest.mark.parametrize(("text", "line", "fragment"), MALFORMED)
def test_malformed_traces_name_their_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(tr.TraceError) as e:
        tr.parse_trace(text, "bad.rep")
    assert e.value.line == line
    assert fragment in str(e.value)
    assert str(e.value).startswith(f"bad.rep, line {line}: ")


def test_cli_malformed_trace_exit_2_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rep"
    bad.write_text(rep(["a 0 8", "f 1"], ids=2))
    proc = subprocess.run([sys.executable, "-m", "heapviz", "trace", str(bad)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "bad.rep, line 6: frees block 1, which is not allocated" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_unreadable_and_binary_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    assert cli(["trace", str(tmp_path / "missing.rep")]) == 2
    assert "missing.rep: cannot read it" in capsys.readouterr().err
    binary = tmp_path / "bin.rep"
    binary.write_bytes(b"10\n1\n2\n1\na 0 \xff\xfe\n")
    assert cli(["trace", str(binary)]) == 2
    assert "bin.rep, line 5: not a text trace" in capsys.readouterr().err


# --- fuzzing the parser ----------------------------------------------------------------------

TOKENS = st.sampled_from(["a", "r", "f", "0", "1", "2", "3", "8", "64", "-1", "x", "99999999999",
                          "1e3", "٣", "", " ", "\t", "\r", "\x00", "\x0b", "a0", "f", "+4"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_fuzz_arbitrary_text(text: str) -> None:
    try:
        t = tr.parse_trace(text, "fuzz")
    except tr.TraceError as e:
        assert e.line >= 0 and str(e).startswith("fuzz")
    else:
        assert t.num_ops == len(t.ops)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(TOKENS, max_size=4).map(" ".join), max_size=14))
def test_fuzz_token_soup(lines: list[str]) -> None:
    text = "\n".join(["100", "4", str(max(0, len(lines) - 0)), "1", *lines])
    try:
        t = tr.parse_trace(text, "soup")
    except tr.TraceError as e:
        assert 1 <= e.line <= len(lines) + 5
    else:
        assert tr.parse_trace(t.text(), "soup").ops == tuple(
            o._replace(line=i + 5) for i, o in enumerate(t.ops))


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 30), st.data())
def test_fuzz_mutated_valid_traces(seed: int, n: int, data: st.DataObject) -> None:
    lines = rep(random_ops(n, seed, 100)).split("\n")
    k = data.draw(st.integers(0, len(lines) - 1))
    lines[k] = data.draw(st.sampled_from(["", "a", "f 0 0", "r 0", "a 0 1", "f 99", "zz",
                                          lines[max(0, k - 1)]]))
    try:
        tr.parse_trace("\n".join(lines), "mut")
    except tr.TraceError as e:
        assert 1 <= e.line <= len(lines)


# --- replaying -------------------------------------------------------------------------------


def test_replay_reports_lab_utilization(traces: list[Path]) -> None:
    t = tr.read_trace(traces[0])
    r = tr.replay(t, "first")
    assert r.ops == t.num_ops and r.peak_live == t.peak_live
    assert r.heap_size is not None and r.heap_size >= t.peak_live
    assert r.utilization == pytest.approx(t.peak_live / r.heap_size)
    assert r.seconds > 0


@pytest.mark.parametrize("policy", tr.POLICIES)
def test_every_policy_passes_the_lab_checks(traces: list[Path], policy: str) -> None:
    for p in traces:
        r = tr.replay(tr.read_trace(p), policy, tr.HeapOptions(align=8))
        assert r.utilization is not None and 0 < r.utilization <= 1


def test_checker_catches_what_the_lab_catches() -> None:
    t = tr.parse_trace(rep(["a 0 16", "a 1 16", "f 0", "f 1"]), "c")
    chk = tr._Checker(t, "fake", 8)
    chk.add(t.ops[0], 0x1000, 0x1000, 0x2000)
    with pytest.raises(tr.ReplayError, match="overlaps live block 0"):
        chk.add(t.ops[1], 0x1008, 0x1000, 0x2000)
    with pytest.raises(tr.ReplayError, match="not aligned to 8"):
        chk.add(t.ops[1], 0x1014, 0x1000, 0x2000)
    with pytest.raises(tr.ReplayError, match="not inside the heap"):
        chk.add(t.ops[1], 0x1ff8, 0x1000, 0x2000)
    with pytest.raises(tr.ReplayError, match="returned NULL"):
        chk.add(t.ops[1], 0, 0x1000, 0x2000)
    chk.add(t.ops[1], 0x1010, 0x1000, 0x2000)  # adjacent is fine
    chk.remove(0x1000)
    assert chk.starts == [0x1010]


def test_cli_single_policy_table(traces: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["trace", *map(str, traces), "--policy", "segregated", "--no-footer"]) == 0
    out = capsys.readouterr().out
    assert "policy=segregated align=8 checks=off" in out
    for p in traces:
        assert p.name in out
    assert "overall" in out


def test_cli_json(traces: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["trace", str(traces[2]), "--policy", "best", "--json", "--align", "16"]) == 0
    data = json.loads(capsys.readouterr().out)
    (r,) = data["best"]
    assert r["trace"] == "grow.rep" and 0 < r["utilization"] <= 1


def test_cli_compare_every_policy_and_glibc(traces: list[Path],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["trace", str(traces[0]), str(traces[3]), "--compare", "--quiet"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("utilization"))
    assert header.split()[1:] == [*tr.POLICIES, "glibc"]
    assert "random.rep" in out and "coalesce.rep" in out and "throughput Kops/s" in out


def test_glibc_replay_measures_a_footprint(traces: list[Path]) -> None:
    r = tr.replay_glibc(tr.read_trace(traces[1]))
    assert r.allocator == "glibc" and r.seconds > 0
    if r.heap_size is not None:  # mallinfo2 is glibc >= 2.33
        assert r.heap_size >= r.peak_live


def test_progress_goes_to_stderr(traces: list[Path], capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tr, "_progress_enabled", lambda *a: True)
    assert cli(["trace", str(traces[2]), str(traces[3])]) == 0
    captured = capsys.readouterr()
    assert "trace: [1/2] grow.rep under first" in captured.err
    assert "[2/2]" not in captured.out


def test_help_mentions_checks_off(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli(["trace", "--help"])
    out = capsys.readouterr().out
    assert "--compare" in out and 'checks="off"' in out


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/traces (the CS:APP traces) is absent")
def test_shared_short_traces(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(SHARED / "short1-bal.rep"), str(SHARED / "short2-bal.rep")]
    assert cli(["trace", *files, "--compare", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "short1-bal.rep" in out and "short2-bal.rep" in out


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/traces (the CS:APP traces) is absent")
def test_shared_traces_all_parse() -> None:
    for p in sorted(SHARED.glob("*.rep")):
        t = tr.read_trace(p)
        assert t.num_ops > 0 and t.peak_live > 0
