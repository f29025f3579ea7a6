"""Benchmarks of the renderer and the live viewer; writes its section of bench/RESULTS.md.

    python bench/bench_viz.py            # measure, print, update bench/RESULTS.md
    python bench/bench_viz.py --quick    # fewer repetitions

Measures: the frame time (layout + draw of a 1280x800 window frame) at 10k and 100k blocks,
headless and in a real window under Xvfb (the viewer's own frame loop); PNG time for a
10k-block heap; the event rate the live viewer keeps up with (no history requests); and a
script's slowdown with the window open against none.  Medians of several runs.
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


def median_ms(fn: Any, reps: int) -> float:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def frame_ms(h: Any, reps: int) -> float:
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


def window_fps(h: Any, display: str, frames: int) -> float:
    """The viewer's own loop drawing `frames` full frames into a real window."""
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
    m = re.search(r"frames (\d+) seconds ([\d.]+)", r.stderr)
    if not m:
        raise RuntimeError(f"viewer bench failed: {r.stderr}")
    return int(m.group(1)) / float(m.group(2))


def workload(h: Any, n: int) -> float:
    """Seconds for n malloc/free pairs plus a few live blocks (the script's own work)."""
    keep = []
    t = time.perf_counter()
    for i in range(n):
        p = h.malloc(16 + i % 64)
        if i % 8 == 0:
            keep.append(p)
        else:
            h.free(p)
    dt = time.perf_counter() - t
    for p in keep:
        h.free(p)
    return dt


def live_rates(display: str, reps: int) -> dict[str, float]:
    os.environ["DISPLAY"] = display
    n = 100_000
    base = []
    for _ in range(reps):
        with heapviz.Heap(size=1 << 20) as h:
            base.append(workload(h, n))
    shown, requests = [], 0
    for _ in range(reps):
        h = heapviz.Heap(size=1 << 20)
        v = viewer.show(h, width=1280, height=800)
        v.ready.wait(10)
        time.sleep(0.3)
        shown.append(workload(h, n))
        time.sleep(0.5)
        requests += v.history_requests
        v.close()
        h.close()
    b, s = statistics.median(base), statistics.median(shown)
    events_per_op = 2.6  # malloc: place + split + malloc; free: free (+ coalesce)
    return {
        "ops_per_s_alone": n / b,
        "ops_per_s_shown": n / s,
        "slowdown": s / b - 1,
        "events_per_s": n * events_per_op / s,
        "history_requests": requests,
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    reps = 3 if a.quick else 7
    res: dict[str, Any] = {}
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
            res.update(live_rates(display, reps))
    finally:
        if xvfb:
            xvfb.terminate()
    for n in (10_000, 100_000):
        res.pop(f"h_{n}")
    report = format_report(res)
    print(report)
    if not a.no_write:
        write_results(report)
    return 0


def format_report(r: dict[str, Any]) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    lines = [
        "## Renderer and live viewer (bench/bench_viz.py)",
        "",
        f"Machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SDL {'.'.join(map(str, _viz.versions()['sdl']))} (software rendering; Xvfb for "
        f"the window).  Date: {datetime.date.today().isoformat()}.  Medians.",
        "",
        "| measure | result | target |",
        "|---|---|---|",
    ]
    for n in (10_000, 100_000):
        k = n // 1000
        ms = r[f"frame_ms_{n}"]
        lines.append(
            f"| headless frame 1280x800, {r[f'blocks_{n}']} blocks (walk + layout + "
            f"draw) | {ms:.1f} ms ({1000 / ms:.0f} fps) | |"
        )
        if f"window_fps_{n}" in r:
            lines.append(
                f"| live window fps, {k}k blocks (layout + draw + present) | "
                f"{r[f'window_fps_{n}']:.0f} fps | 60 fps at 100k |"
            )
    lines.append(f"| PNG of a 10k-block heap, width 1200 | {r['png_ms_10k']:.1f} ms | <= 50 ms |")
    if "slowdown" in r:
        lines += [
            f"| script alone | {r['ops_per_s_alone']:,.0f} ops/s | |",
            f"| script with the window open | {r['ops_per_s_shown']:,.0f} ops/s | |",
            f"| slowdown with the window open | {r['slowdown'] * 100:+.1f}% | <= 10% |",
            f"| events the viewer followed live (~2.6 per op) | "
            f"{r['events_per_s']:,.0f} events/s, {r['history_requests']} catch-up requests | |",
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
