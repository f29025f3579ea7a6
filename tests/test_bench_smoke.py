"""The benchmarks run (tiny, quick modes) so that they cannot rot; no timing is asserted."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
SHARED = ROOT.parent / "shared" / "traces"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(BENCH))
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(BENCH))
    return mod


@pytest.fixture(scope="module")
def trace_bench() -> Path:
    if shutil.which("make") is None or shutil.which("cc") is None:
        pytest.skip("make or cc is missing: cannot build bench/build/trace_bench")
    subprocess.run(["make", "-s", "-C", str(BENCH)], check=True, capture_output=True,
                   timeout=300)
    exe = BENCH / "build" / "trace_bench"
    assert exe.exists()
    return exe


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    gen = load("gen_traces")
    out = tmp_path_factory.mktemp("traces")
    paths: list[Path] = gen.generate(out, scale=0.01)
    again = gen.generate(out, scale=0.01)  # same seed, same bytes
    assert [p.read_text() for p in paths] == [p.read_text() for p in again]
    return paths


def test_generated_traces_parse_and_are_balanced(synth: list[Path]) -> None:
    from heapviz.trace import read_trace

    for p in synth:
        t = read_trace(p)
        live: set[int] = set()
        for op in t.ops:
            if op.kind == "a":
                live.add(op.id)
            elif op.kind == "f":
                live.discard(op.id)
        assert not live, p.name


def test_trace_bench_quick(trace_bench: Path, synth: list[Path], tmp_path: Path) -> None:
    files = [str(p) for p in synth]
    if SHARED.is_dir():
        files.append(str(SHARED / "short1-bal.rep"))
    out = tmp_path / "tb.json"
    proc = subprocess.run([str(trace_bench), "--quick", "--json", str(out), *files],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    allocs = {r["allocator"] for r in data["results"]}
    assert {"segregated/rec-off", "segregated/rec-on", "first/rec-on+shadow", "buddy/rec-off",
            "glibc", "glibc-notrim", "glibc-nopad"} <= allocs
    for r in data["results"]:
        assert 0 < r["utilization"] <= 1.0001, r
        if r["allocator"] != "glibc-nopad" and r["allocator"] != "segregated+footer/rec-off":
            assert r["warm_ns"] > 0, r


def test_trace_bench_rejects_a_malformed_trace(trace_bench: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.rep"
    bad.write_text("10\n2\n3\n1\na 0 8\nf 1\nf 0\n")
    proc = subprocess.run([str(trace_bench), "--quick", "--no-glibc", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "bad.rep:6:" in proc.stderr


def test_bench_api_quick(tmp_path: Path) -> None:
    out = tmp_path / "api.json"
    proc = subprocess.run([sys.executable, str(BENCH / "bench_api.py"), "--quick", "--json",
                           str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    ns = json.loads(out.read_text())["ns"]
    for key in ("pair Heap()", "pair ctypes", "mixed checks=off", "api Heap()",
                "api checks=off", "bytes p.read(4096) Heap()", "bytes p[i] write checks=off"):
        assert ns[key] > 0, key


def test_bench_queries_quick(tmp_path: Path) -> None:
    out = tmp_path / "queries.json"
    proc = subprocess.run([sys.executable, str(BENCH / "bench_queries.py"), "--quick",
                           "--json", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(out.read_text())
    assert res["blocks"] > 1000 and res["free_blocks"] > 500 and res["events"] > 1000
    for q in ("blocks", "free_list", "events"):
        assert res["ms"][f"{q} new"] > 0 and res["ms"][f"{q} old"] > 0, q
    assert "heapviz" not in proc.stderr  # every block freed: no leak summary


def test_run_py_quick(trace_bench: Path) -> None:
    """The whole pipeline in its smoke mode: no build, no RESULTS.md written."""
    before = (BENCH / "RESULTS.md").read_text() if (BENCH / "RESULTS.md").exists() else None
    proc = subprocess.run([sys.executable, str(BENCH / "run.py"), "--quick", "--no-build",
                           "--skip", "viz"], cwd=ROOT, capture_output=True, text=True,
                          timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # One verdict line per target (timing is not judged here: only that each was measured
    # or says why not), then the quick run's last word.
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    verdicts = [re.match(r"\s*(PASS|MISS|not measured)  (.+): (.+) \((.+)\)$", ln)
                for ln in lines]
    assert lines and all(verdicts), f"not a verdict line: {lines}"
    targets = [m.group(2) for m in verdicts if m]
    assert any(t.startswith("Python `h.free(h.malloc(64))`") for t in targets)
    assert any("strict" in t and "off" in t for t in targets)
    for m in verdicts:
        assert m is not None
        if m.group(1) != "not measured":  # a measurement: a number, and its baseline
            assert re.search(r"\d", m.group(3)) and m.group(4).strip("–").strip()
    assert "quick run done" in proc.stderr and "RESULTS.md not written" in proc.stderr
    api = json.loads((BENCH / "build" / "bench_api.quick.json").read_text())
    assert api["ns"]["pair Heap()"] > 0 and api["ns"]["pair ctypes"] > 0
    after = (BENCH / "RESULTS.md").read_text() if (BENCH / "RESULTS.md").exists() else None
    assert before == after


def test_results_update_keeps_other_sections(tmp_path: Path) -> None:
    run = load("run")
    path = tmp_path / "RESULTS.md"
    path.write_text("# Results\n\nintro\n\n## Viewer (bench/bench_viz.py)\n\nfps 60\n\n"
                    f"{run.SECTIONS[1]}\n\nold targets\n\n## Another\n\nkept\n")
    run.update_results({run.SECTIONS[0]: f"{run.SECTIONS[0]}\n\nnew run\n",
                        run.SECTIONS[1]: f"{run.SECTIONS[1]}\n\nnew targets\n"}, path)
    text = path.read_text()
    assert text.startswith("# Results\n\nintro\n")
    assert "## Viewer (bench/bench_viz.py)\n\nfps 60\n" in text
    assert "## Another\n\nkept\n" in text
    assert "old targets" not in text and "new targets" in text and "new run" in text
    assert text.index("## Viewer") < text.index(run.SECTIONS[0]) < text.index("## Another")
    run.update_results({run.SECTIONS[1]: f"{run.SECTIONS[1]}\n\nnewer\n"}, path)
    assert path.read_text().count(run.SECTIONS[1]) == 1
