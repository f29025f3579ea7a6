"""Benchmarks of the renderer and the live viewer; writes its section of bench/RESULTS.md.

    python bench/bench_viz.py            # measure, print, update bench/RESULTS.md
    python bench/bench_viz.py --quick    # fewer repetitions

Measures: the frame time (layout + draw of a 1280x800 window frame) at 10k and 100k blocks,
headless and in a real window under Xvfb (the viewer's own frame loop); PNG time for a
10k-block heap; the event rate the live viewer keeps up with (no history requests); and a
script's slowdown with the window open against none.  Medians of several runs.

The machine these run on is shared and often loaded (load average above its core count), so
wall times include waiting for a CPU.  Every measure is given by wall time and by CPU time
(of the process doing the work: the script, or the viewer for its frames), and the runs with
and without a window alternate, so that load changes hit both sides alike.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import heapviz
from heapviz import _viz, viewer

RESULTS = Path(__file__).with_name("RESULTS.md")
BEGIN, END = "<!-- bench_viz: begin -->", "<!-- bench_viz: end -->"


def heap_with_blocks(n: int) -> tuple[Any, list[Any]]:
    """A heap with about n blocks: mostly allocated, every fourth freed (no coalescing)."""
    h = heapviz.Heap(size=64 * 1024, max_size=256 << 20, coalesce="none", record=False)
    ptrs = [h.malloc(16 + (i * 7) % 48) for i in range(n)]
    for p in ptrs[::4]:
        h.free(p)
    return h, ptrs


def median_ms(fn: Any, reps: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of fn() (one warm-up call first)."""
    fn()
    walls, cpus = [], []
    for _ in range(reps):
        t, c = time.perf_counter(), time.process_time()
        fn()
        walls.append((time.perf_counter() - t) * 1000)
        cpus.append((time.process_time() - c) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def frame_ms(h: Any, reps: int) -> tuple[float, float]:
    cap = h._capsule()
    return median_ms(lambda: _viz.pixels(cap, width=1280, height=800, chrome=True), reps)


def start_xvfb() -> tuple[subprocess.Popen[bytes] | None, str]:
    if shutil.which("Xvfb") is None:
        return None, ""
    for n in range(300, 400):
        if not os.path.exists(f"/tmp/.X11-unix/X{n}"):
            break
    p = subprocess.Popen(
        ["Xvfb", f":{n}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        if os.path.exists(f"/tmp/.X11-unix/X{n}"):
            return p, f":{n}"
        time.sleep(0.05)
    p.kill()
    return None, ""


def window_fps(h: Any, display: str, frames: int) -> tuple[float, float]:
    """The viewer's own loop drawing `frames` full frames into a real window: frames per
    second of wall time and of the viewer's CPU time."""
    env = dict(os.environ, DISPLAY=display)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "heapviz.viewer",
            "--child",
            str(h.fd),
            "-1",
            "--width",
            "1280",
            "--height",
            "800",
            "--frames",
            str(frames),
        ],
        pass_fds=(h.fd,),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    m = re.search(r"frames (\d+) seconds ([\d.]+) cpu ([\d.]+)", r.stderr)
    if not m:
        raise RuntimeError(f"viewer bench failed: {r.stderr}")
    n = int(m.group(1))
    return n / float(m.group(2)), n / max(float(m.group(3)), 1e-9)


def workload(h: Any, n: int) -> tuple[float, float]:
    """Wall and CPU seconds (of this process) for n malloc/free pairs plus a few live
    blocks (the script's own work)."""
    keep = []
    t, c = time.perf_counter(), time.process_time()
    for i in range(n):
        p = h.malloc(16 + i % 64)
        if i % 8 == 0:
            keep.append(p)
        else:
            h.free(p)
    dt, dc = time.perf_counter() - t, time.process_time() - c
    for p in keep:
        h.free(p)
    return dt, dc


def _proc_cpu(pid: int) -> float:
    """CPU seconds of another process (user + system) from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


LIVE_OPS = 300_000  # ~780,000 events: more than half the 2^20-event ring


def scrub_times(reps: int) -> dict[str, float]:
    """Time travel in 1,000,000 events of history (headless Replay, as the window uses it):
    the first walk to the end (it leaves the checkpoints), then scrubs to random moments."""
    import random

    h = heapviz.Heap(checks="off")
    rnd = random.Random(7)
    live: list[Any] = []
    while len(h.events) < 996_000:
        for _ in range(1000):
            if live and rnd.random() < 0.5:
                h.free(live.pop(rnd.randrange(len(live))))
            else:
                live.append(h.malloc(rnd.randint(8, 200)))
    r = _viz.Replay(h._capsule())
    ops = r.ops
    t, c = time.perf_counter(), time.process_time()
    r.goto(ops)
    first = (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000
    walls, cpus = [], []
    for _ in range(reps * 5):
        op = rnd.randrange(ops + 1)
        t, c = time.perf_counter(), time.process_time()
        r.goto(op)
        walls.append((time.perf_counter() - t) * 1000)
        cpus.append((time.process_time() - c) * 1000)
    info = r.info
    out = {
        "scrub_events": len(h.events),
        "scrub_ops": ops,
        "scrub_first": first,
        "scrub_median": (statistics.median(walls), statistics.median(cpus)),
        "scrub_max": (max(walls), max(cpus)),
        "scrub_checkpoints": info["checkpoints"],
        "scrub_every": info["every"],
        "scrub_mib": info["bytes"] / 2**20,
    }
    h.close()
    return out


def _one_run(shown: bool, n: int) -> tuple[float, float, float, int]:
    """(wall s, script CPU s, viewer CPU s, catch-up requests) of one workload."""
    h = heapviz.Heap(size=1 << 20)
    v = None
    if shown:
        v = viewer.show(h, width=1280, height=800)
        v.ready.wait(10)
        time.sleep(0.3)
        vc = _proc_cpu(v.process.pid)
    wall, cpu = workload(h, n)
    vcpu, requests = 0.0, 0
    if v is not None:
        vcpu = _proc_cpu(v.process.pid) - vc
        time.sleep(0.5)
        requests = v.history_requests
        v.close()
        v.process.wait(5)
    h.close()
    return wall, cpu, vcpu, requests


def live_rates(display: str, reps: int) -> dict[str, float]:
    os.environ["DISPLAY"] = display
    n = LIVE_OPS
    runs: dict[bool, list[tuple[float, float, float, int]]] = {False: [], True: []}
    for _ in range(reps):  # alternate, so that load changes hit both sides alike
        for shown in (False, True):
            runs[shown].append(_one_run(shown, n))
    b = statistics.median(r[0] for r in runs[False])
    s = statistics.median(r[0] for r in runs[True])
    best_b = min(r[0] for r in runs[False])
    best_s = min(r[0] for r in runs[True])
    bc = statistics.median(r[1] for r in runs[False])
    sc = statistics.median(r[1] for r in runs[True])
    vc = statistics.median(r[2] for r in runs[True])
    events_per_op = 2.6  # malloc: place + split + malloc; free: free (+ coalesce)
    return {
        "ops_per_s_alone": n / b,
        "ops_per_s_shown": n / s,
        "slowdown": s / b - 1,
        "best_slowdown": best_s / best_b - 1,
        "live_reps": reps,
        "cpu_ops_per_s_alone": n / bc,
        "cpu_ops_per_s_shown": n / sc,
        "cpu_slowdown": sc / bc - 1,
        "viewer_cpu_share": vc / s,
        "events_per_s": n * events_per_op / s,
        "history_requests": sum(r[3] for r in runs[True]),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    reps = 3 if a.quick else 7
    res: dict[str, Any] = {"load_before": os.getloadavg()}
    for n in (10_000, 100_000):
        h, ptrs = heap_with_blocks(n)
        res[f"blocks_{n}"] = len(h.blocks())
        res[f"frame_ms_{n}"] = frame_ms(h, reps)
        if n == 10_000:
            res["png_ms_10k"] = median_ms(lambda h=h: h.render(width=1200, vars=False), reps)
        res[f"h_{n}"] = (h, ptrs)
    xvfb, display = start_xvfb()
    try:
        if display:
            for n in (10_000, 100_000):
                h, _ = res[f"h_{n}"]
                res[f"window_fps_{n}"] = window_fps(h, display, 60 if a.quick else 180)
            res.update(live_rates(display, 5 if a.quick else 15))
    finally:
        if xvfb:
            xvfb.terminate()
    for n in (10_000, 100_000):
        res.pop(f"h_{n}")
    res.update(scrub_times(reps))
    res["load_after"] = os.getloadavg()
    report = format_report(res)
    print(report)
    if not a.no_write:
        write_results(report)
    return 0


def _verdict(ok: bool) -> str:
    return "**PASS**" if ok else "**MISS**"


def format_report(r: dict[str, Any]) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in r["load_before"])
    load2 = " ".join(f"{x:.2f}" for x in r["load_after"])
    lines = [
        "## Renderer and live viewer (bench/bench_viz.py)",
        "",
        f"Machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SDL {'.'.join(map(str, _viz.versions()['sdl']))}, libpng "
        f"{_viz.versions()['png']} (software rendering; Xvfb for the window).  Date: "
        f"{datetime.date.today().isoformat()}.  Medians.  Load average {load} at the start, "
        f"{load2} at the end: the machine is shared, so wall times include waiting for a CPU; "
        "CPU times (of the process doing the work) do not.",
        "",
        "| measure | wall time | CPU time | target | verdict |",
        "|---|---|---|---|---|",
    ]
    for n in (10_000, 100_000):
        k = n // 1000
        ms, cms = r[f"frame_ms_{n}"]
        lines.append(
            f"| headless frame 1280x800, {r[f'blocks_{n}']} blocks (walk + layout + "
            f"draw) | {ms:.1f} ms ({1000 / ms:.0f} fps) | {cms:.1f} ms | | |"
        )
        if f"window_fps_{n}" in r:
            fps, cfps = r[f"window_fps_{n}"]
            target = "60 fps at 100k" if n == 100_000 else ""
            verdict = _verdict(fps >= 60) if n == 100_000 else ""
            lines.append(
                f"| live window, {k}k blocks (layout + draw + present, viewer's loop) | "
                f"{fps:.0f} fps | {1000 / cfps:.1f} ms a frame ({cfps:.0f} fps of CPU) | "
                f"{target} | {verdict} |"
            )
    pw, pc = r["png_ms_10k"]
    lines.append(
        f"| PNG of a 10k-block heap, width 1200 (`h.render`) | {pw:.1f} ms | {pc:.1f} ms | "
        f"<= 50 ms | {_verdict(pw <= 50)} |"
    )
    fw, fc = r["scrub_first"]
    mw, mc = r["scrub_median"]
    xw, xc = r["scrub_max"]
    lines += [
        f"| time travel, {r['scrub_events']:,} events ({r['scrub_ops']:,} ops): first walk "
        f"to the end (leaves {r['scrub_checkpoints']} checkpoints, every {r['scrub_every']} "
        f"ops, {r['scrub_mib']:.0f} MiB) | {fw:.0f} ms | {fc:.0f} ms | | |",
        f"| time travel: a scrub to a random moment, median / max | {mw:.1f} / {xw:.1f} ms | "
        f"{mc:.1f} / {xc:.1f} ms | < 200 ms | {_verdict(xw < 200)} |",
    ]
    if "slowdown" in r:
        lines += [
            f"| script alone ({LIVE_OPS // 1000}k malloc/free, {r['live_reps']} runs each way, "
            f"alternating) | {r['ops_per_s_alone']:,.0f} ops/s | "
            f"{r['cpu_ops_per_s_alone']:,.0f} ops/s | | |",
            f"| script with the window open | {r['ops_per_s_shown']:,.0f} ops/s | "
            f"{r['cpu_ops_per_s_shown']:,.0f} ops/s | | |",
            f"| slowdown with the window open (median; best run against best run: "
            f"{r['best_slowdown'] * 100:+.1f}%) | {r['slowdown'] * 100:+.1f}% | "
            f"{r['cpu_slowdown'] * 100:+.1f}% | <= 10% | {_verdict(r['slowdown'] <= 0.10)} |",
            f"| the viewer's CPU while the script runs flat out | | "
            f"{r['viewer_cpu_share'] * 100:.0f}% of a CPU | | |",
            f"| events the viewer followed live (~2.6 per op) | "
            f"{r['events_per_s']:,.0f} events/s, {r['history_requests']} catch-up requests | "
            "| | |",
        ]
    return "\n".join(lines) + "\n"


def write_results(report: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    block = f"{BEGIN}\n{report}{END}\n"
    if BEGIN in text and END in text:
        text = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n?", block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block
    RESULTS.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
