"""Benchmarks of real C programs on heapviz; writes its section of bench/RESULTS.md.

    python bench/bench_c.py            # measure, print, update bench/RESULTS.md (~3 minutes)
    python bench/bench_c.py --quick    # a smoke run: tiny sizes, nothing written

1. bench/c/workload.c (words counted in a growing hash table of malloc'd strings and nodes,
   a realloc'd array of every word, a qsort of it, everything freed), built with `gcc -O2`
   and run natively, built with `heapviz cc -O2` and run with checking and recording on (the
   runtime's defaults), and the native build under valgrind.  Target: heapviz ≤ 3× native.
2. `sort` of a 1,000,000-line file, natively and under `heapviz run sort` (the plain binary
   through LD_PRELOAD, the launcher's start included).  Target: ≤ 2× native.
3. `h.leaks()` on a Python heap of 100,000 blocks (half held by Pointers, half lost): the
   core's scanner (csrc/core/leaks.c) and the records made for Python.  Target: ≤ 50 ms.

Runs of the compared programs are interleaved; figures are medians (wall time, and CPU time
from the child's rusage, which the machine's other load disturbs less).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import io
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
import heapviz  # noqa: E402  (the package of this checkout)

BUILD = BENCH / "build" / "c"
RESULTS = BENCH / "RESULTS.md"
HEADING = "## C programs (bench/bench_c.py)"
BEGIN, END = "<!-- bench_c:begin -->", "<!-- bench_c:end -->"
HEAPVIZ = [sys.executable, "-m", "heapviz"]


def log(msg: str) -> None:
    print(f"bench_c: {msg}", file=sys.stderr, flush=True)


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall s, CPU s of the child and its children) of one run, output discarded."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                   check=True, timeout=900)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def interleaved(cases: dict[str, tuple[list[str], dict[str, str] | None]],
                runs: int) -> dict[str, dict[str, float]]:
    """Median wall and CPU seconds of each case, the cases run in turn."""
    got: dict[str, list[tuple[float, float]]] = {k: [] for k in cases}
    for _ in range(runs):
        for name, (argv, env) in cases.items():
            got[name].append(timed(argv, env))
    return {k: {"wall": statistics.median(w for w, _ in v),
                "cpu": statistics.median(c for _, c in v), "runs": len(v)}
            for k, v in got.items()}


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "HEAPVIZ_OPTIONS")}
    env.update(extra)
    return env


# --------------------------------------------------------------------------------------------
# 1. The workload
# --------------------------------------------------------------------------------------------


def build_workload() -> tuple[Path, Path]:
    BUILD.mkdir(parents=True, exist_ok=True)
    src = BENCH / "c" / "workload.c"
    native, heapviz = BUILD / "workload", BUILD / "workload-heapviz"
    subprocess.run(["gcc", "-O2", "-o", str(native), str(src)], check=True)
    subprocess.run([*HEAPVIZ, "cc", "-O2", "-o", str(heapviz), str(src)], check=True,
                   env=clean_env())
    return native, heapviz


def bench_workload(quick: bool) -> dict[str, Any]:
    native, heapviz = build_workload()
    words = "20000" if quick else "1000000"
    runs = 1 if quick else 5
    quiet = clean_env(HEAPVIZ_OPTIONS="quiet=true")
    log(f"workload: {words} words, {runs} interleaved runs")
    r = interleaved({"native": ([str(native), words], clean_env()),
                     "heapviz": ([str(heapviz), words], quiet)}, runs)
    out: dict[str, Any] = {"words": int(words), **r}
    if shutil.which("valgrind"):
        vg_runs = 1 if quick else 2
        log(f"workload under valgrind ({vg_runs} runs)")
        out["valgrind"] = interleaved({"valgrind": (
            ["valgrind", "-q", "--leak-check=full", str(native), words], clean_env())},
            vg_runs)["valgrind"]
    same = subprocess.run([str(heapviz), words], capture_output=True, text=True, env=quiet,
                          check=True).stdout == subprocess.run(
        [str(native), words], capture_output=True, text=True, check=True).stdout
    out["same_output"] = same
    return out


# --------------------------------------------------------------------------------------------
# 2. sort
# --------------------------------------------------------------------------------------------


def lines_file(n: int) -> Path:
    path = BUILD / f"lines-{n}.txt"
    if not path.exists():
        BUILD.mkdir(parents=True, exist_ok=True)
        x, letters = 12345, "abcdefghijklmnopqrstuvwxyz"
        with path.open("w") as f:
            for _ in range(n):
                x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
                word = "".join(letters[(x >> (5 * k)) % 26] for k in range(5 + (x >> 60) % 12))
                f.write(word + "\n")
    return path


def bench_sort(quick: bool) -> dict[str, Any]:
    n = 20000 if quick else 1_000_000
    path = lines_file(n)
    sort = shutil.which("sort") or "sort"
    runs = 1 if quick else 5
    log(f"sort of {n} lines, {runs} interleaved runs")
    env = clean_env(LC_ALL="C")
    r = interleaved({"native": ([sort, str(path)], env),
                     "heapviz run": ([*HEAPVIZ, "run", "-q", sort, str(path)], env)}, runs)
    return {"lines": n, **r}


# --------------------------------------------------------------------------------------------
# 3. h.leaks()
# --------------------------------------------------------------------------------------------


def bench_leaks(quick: bool) -> dict[str, Any]:
    n = 2000 if quick else 100_000
    repeat = 3 if quick else 9
    h = heapviz.Heap(max_size=64 << 20, checks="off")
    held = [h.malloc(24) for _ in range(n)]
    for i in range(0, n, 2):
        held[i] = None  # type: ignore[call-overload]
    h.leaks()  # warm: pages of the tables touched once
    scan = []
    for _ in range(repeat):
        t = time.perf_counter()
        leaks = h.leaks()
        scan.append(time.perf_counter() - t)
        del leaks
    walk = []
    for _ in range(max(1, repeat // 3)):
        t = time.perf_counter()
        blocks = h.blocks()
        walk.append(time.perf_counter() - t)
        del blocks
    kinds = sorted({lk.kind for lk in h.leaks()})
    h.checks = "off"
    held.clear()
    gc.collect()
    with contextlib.redirect_stderr(io.StringIO()):
        h.close()
    return {"blocks": n, "leaks_s": statistics.median(scan), "blocks_s":
            statistics.median(walk), "repeat": repeat, "kinds": kinds}


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        cpu = next((ln.split(":", 1)[1].strip() for ln in out.splitlines()
                    if ln.startswith("Model name")), cpu)
    except (OSError, subprocess.CalledProcessError):
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}"


def verdict(ok: bool) -> str:
    return "**PASS**" if ok else "**MISS**"


def report(w: dict[str, Any], s: dict[str, Any], lk: dict[str, Any]) -> str:
    nat, hv = w["native"], w["heapviz"]
    ratio_wall, ratio_cpu = hv["wall"] / nat["wall"], hv["cpu"] / nat["cpu"]
    sort_wall = s["heapviz run"]["wall"] / s["native"]["wall"]
    sort_cpu = s["heapviz run"]["cpu"] / s["native"]["cpu"]
    vg = w.get("valgrind")
    vg_cell = f"{vg['wall']:.2f} s = {vg['wall'] / nat['wall']:.1f}×" if vg else "not installed"
    date = datetime.date.today().isoformat()
    rows = [
        "| target | measured | baseline (same run) | |",
        "|---|---|---|---|",
        f"| `heapviz cc` program with checking and recording on ≤ 3× native "
        f"(bench/c/workload.c, {w['words']:,} words) | {hv['wall']:.2f} s = "
        f"{ratio_wall:.2f}× (CPU {ratio_cpu:.2f}×) | native {nat['wall']:.2f} s; valgrind "
        f"{vg_cell} | {verdict(ratio_wall <= 3)} |",
        f"| `heapviz run sort` of {s['lines']:,} lines ≤ 2× native (LD_PRELOAD, launcher "
        f"included) | {s['heapviz run']['wall']:.2f} s = {sort_wall:.2f}× (CPU "
        f"{sort_cpu:.2f}×) | native {s['native']['wall']:.2f} s | {verdict(sort_wall <= 2)} |",
        f"| `h.leaks()` on {lk['blocks']:,} blocks ≤ 50 ms | {lk['leaks_s'] * 1e3:.1f} ms "
        f"| `h.blocks()` of the same heap {lk['blocks_s'] * 1e3:.0f} ms | "
        f"{verdict(lk['leaks_s'] <= 0.05)} |",
    ]
    return f"""{HEADING}

Run {date} on {machine()}. Medians of {nat['runs']} interleaved runs (valgrind:
{vg['runs'] if vg else 0}); CPU time is the child's user + system time (the machine is shared:
wall time moves with its load more than CPU time does). The heapviz program is
bench/c/workload.c built with `heapviz cc -O2` and run on its own with the runtime's defaults
(first fit, LIFO free list, checks="strict", recording on, full leak check; `heapviz run`
adds only the launcher's start); its output is {'the same as' if w['same_output'] else
'NOT the same as'} the native build's. valgrind runs the native build with
`--leak-check=full`. `h.leaks()`: median of {lk['repeat']} calls on a heap where half the
blocks are held by Pointers and half lost ({', '.join(lk['kinds'])}).

{chr(10).join(rows)}
"""


def write_results(text: str) -> None:
    old = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    block = f"{BEGIN}\n{text}{END}\n"
    if BEGIN in old and END in old:
        new = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n?", lambda _: block, old,
                     flags=re.S)
    else:
        new = old.rstrip("\n") + "\n\n" + block
    RESULTS.write_text(new)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes; nothing written")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = ap.parse_args()
    if shutil.which("gcc") is None:
        log("gcc is not installed: nothing to measure")
        return 0
    w, s, lk = bench_workload(args.quick), bench_sort(args.quick), bench_leaks(args.quick)
    text = report(w, s, lk)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps({"workload": w, "sort": s, "leaks": lk},
                                              indent=1))
    if not args.quick:
        write_results(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
