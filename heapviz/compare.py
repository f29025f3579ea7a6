"""Run one scenario under several policies, side by side: a table of stats and a picture each.

    python -m heapviz compare lesson.hv --policy first,best,worst,next,segregated,buddy
    python -m heapviz compare amptjp-bal.rep --policy first,best --out traces.png

FILE is a scenario (docs/scenarios.md), a CS:APP malloc-lab trace (.rep), a Python script
(its heap, given or made, gets each policy in turn) or a recording (.hvlog, its operations
re-run under each policy).  The table shows, for each policy, the heap's final size, the bytes
in use and free, the largest free block, external and internal fragmentation, utilization
(peak live payload / heap size) and failed requests; the picture (--out, one PNG) stacks the
final heap of every policy, so a class sees fragmentation differ.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from heapviz import recording, render, scenario, trace
from heapviz.heap import Heap
from heapviz.options import POLICIES
from heapviz.records import Stats


@dataclass
class Outcome:
    """One policy's run: its final stats, a note when the run did not finish as written,
    and the picture of its final heap (PNG bytes, or None without the renderer)."""

    policy: str
    stats: Stats | None
    note: str = ""
    png: bytes | None = None
    errors: int = 0


def parse_policies(text: str) -> list[str]:
    """"first,best" -> ["first", "best"] ("all" for every policy)."""
    if text.strip() == "all":
        return list(POLICIES)
    out: list[str] = []
    for name in (s.strip() for s in text.split(",")):
        if not name:
            continue
        if name not in POLICIES:
            raise argparse.ArgumentTypeError(
                f"unknown policy {name!r}: choose from {', '.join(POLICIES)} (or all)")
        if name not in out:
            out.append(name)
    if not out:
        raise argparse.ArgumentTypeError("no policy given")
    return out


# --- one run per kind of file ---------------------------------------------------------------


def _picture(h: Heap, width: int, want: bool,
             names: dict[str, int] | None = None) -> bytes | None:
    if not want:
        return None
    return render.render_png(h, width=width, vars=names or False)


def _close(h: Heap) -> None:
    with contextlib.redirect_stderr(io.StringIO()):
        h.checks = "off"
        h.close()


def run_one(path: str, kind: str, policy: str, options: dict[str, Any], width: int,
            picture: bool, loaded: Any = None) -> Outcome:
    """Run FILE once under `policy`; never raises for what the run itself does."""
    opts = {**options, "policy": policy}
    if kind == "python":
        got: list[Outcome] = []

        def capture(h: Any) -> None:
            if not got:
                got.append(Outcome(policy, h.stats(), png=_picture(h, width, picture),
                                   errors=len(h.errors())))

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status, heaps = scenario.run_script(path, opts, on_close=capture)
        for h in heaps:
            _close(h)
        if not got:
            return Outcome(policy, None, "the script used no heap")
        note = f"exit status {status}: {err.getvalue().strip().splitlines()[-1][:70]}" if (
            status and err.getvalue().strip()) else (f"exit status {status}" if status else "")
        got[0].note = note
        return got[0]
    if kind == "trace":
        h = trace.trace_heap(loaded, opts, record=False)
    elif kind == "recording":
        h = loaded.replay(overrides=opts, verify=False)
    else:
        sc = loaded
        h = scenario.make_heap({**sc.options, **opts}, path)
        runner = scenario.Runner(sc, h)
        with contextlib.redirect_stderr(io.StringIO()):
            runner.run()
        failure = runner.failure
        note = ""
        if failure is not None and failure.failure:
            note = f"stopped at line {failure.step.line}: " + failure.failure.split(": ", 2)[
                -1].split("\n")[0]
        try:
            return Outcome(policy, h.stats(), note,
                           _picture(h, width, picture, runner.pointer_vars()), len(h.errors()))
        finally:
            _close(h)
            runner.vars.clear()
    try:
        return Outcome(policy, h.stats(), "", _picture(h, width, picture), len(h.errors()))
    finally:
        _close(h)


def compare(path: str, policies: list[str], options: dict[str, Any] | None = None,
            width: int = 1000, picture: bool = True) -> list[Outcome]:
    """FILE under each policy: the outcomes in the order given.  Raises ScenarioError,
    TraceError or RecordingError (all ValueErrors) when FILE is malformed."""
    options = options or {}
    kind = scenario.file_kind(path)
    loaded: Any = None
    if kind == "trace":
        loaded = trace.read_trace(path)
    elif kind == "recording":
        loaded = recording.load(path)
    elif kind == "scenario":
        loaded = scenario.read(path)
    return [run_one(path, kind, p, options, width, picture, loaded) for p in policies]


# --- output ---------------------------------------------------------------------------------

COLUMNS = ("policy", "heap", "in use", "free", "largest free", "ext frag", "int frag",
           "utilization", "failed", "errors")


def _row(o: Outcome) -> list[str]:
    s = o.stats
    if s is None:
        return [o.policy] + ["-"] * (len(COLUMNS) - 1)
    return [o.policy, f"{s.heap_size} B", f"{s.in_use} B", f"{s.free_bytes} B",
            f"{s.largest_free} B", f"{s.frag_external:.0%}", f"{s.frag_internal:.0%}",
            f"{s.utilization:.0%}", str(s.n_failed), str(o.errors)]


def table(outcomes: list[Outcome]) -> str:
    """The comparison as an aligned text table (notes below it)."""
    rows = [list(COLUMNS)] + [_row(o) for o in outcomes]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = []
    for n, r in enumerate(rows):
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:],
                                                                       strict=True)]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    for o in outcomes:
        if o.note:
            lines.append(f"{o.policy}: {o.note}")
    return "\n".join(lines)


def as_json(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    out = []
    for o in outcomes:
        d: dict[str, Any] = {"policy": o.policy, "note": o.note, "errors": o.errors}
        if o.stats is not None:
            d.update({k: v for k, v in vars(o.stats).items() if k != "extra"})
        out.append(d)
    return out


def stack_pictures(outcomes: list[Outcome], path: str, title: str) -> str:
    """One PNG: every policy's final heap, stacked, each under a label with its numbers."""
    panels = [(o, Image.open(io.BytesIO(o.png)).convert("RGB")) for o in outcomes if o.png]
    if not panels:
        raise ValueError("no pictures to stack")
    try:
        font: Any = ImageFont.truetype("DejaVuSans.ttf", 18)
        small: Any = ImageFont.truetype("DejaVuSans.ttf", 14)
    except OSError:
        font = small = ImageFont.load_default()
    band, gap = 34, 10
    width = max(im.width for _, im in panels)
    height = 40 + sum(band + im.height + gap for _, im in panels)
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    draw.text((10, 10), title, fill="#2E3440", font=font)
    y = 40
    for o, im in panels:
        s = o.stats
        label = f"{o.policy}"
        if s is not None:
            label += (f"  ·  heap {s.heap_size} B, free {s.free_bytes} B in {s.free_blocks} "
                      f"blocks, largest {s.largest_free} B, external fragmentation "
                      f"{s.frag_external:.0%}, utilization {s.utilization:.0%}")
        if o.note:
            label += f"  ·  {o.note}"
        draw.rectangle((0, y, width, y + band - 4), fill="#E5E9F0")
        draw.text((10, y + 7), label[:160], fill="#2E3440", font=small)
        canvas.paste(im, (0, y + band))
        y += band + im.height + gap
    canvas.save(path, format="PNG", optimize=False)
    return path


# --- the command ----------------------------------------------------------------------------


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE",
                        help="scenario, malloc-lab trace (.rep), Python script or recording")
    parser.add_argument("--policy", type=parse_policies, default=list(POLICIES),
                        metavar="P1,P2,…",
                        help=f"policies to compare (default: all: {','.join(POLICIES)})")
    scenario.add_heap_options(parser, policy=False)
    parser.add_argument("-o", "--out", default="compare.png",
                        help="the combined picture (default: %(default)s)")
    parser.add_argument("--width", type=int, default=1000, help="width of each heap picture")
    parser.add_argument("--no-picture", action="store_true", help="only the table")
    parser.add_argument("--json", action="store_true", help="the numbers as JSON")


def main(args: argparse.Namespace) -> int:
    path = args.file
    if not os.path.exists(path):
        print(f"heapviz compare: {path}: no such file", file=sys.stderr)
        return 2
    picture = not args.no_picture and not args.json
    notice = ""
    if picture and not render.available():
        try:
            render.viz()
        except RuntimeError as e:
            notice = f"(no picture: {e})"
        picture = False
    try:
        outcomes = compare(path, args.policy, scenario.heap_options(args, policy=False),
                           args.width, picture)
    except ValueError as e:  # ScenarioError, TraceError, RecordingError
        print(f"heapviz compare: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(as_json(outcomes), indent=1))
        return 0
    print(f"{path} under {len(outcomes)} polic{'y' if len(outcomes) == 1 else 'ies'}:\n")
    print(table(outcomes))
    if picture:
        title = f"{os.path.basename(path)}: the final heap under each policy"
        try:
            print(f"\npicture: {stack_pictures(outcomes, args.out, title)}")
        except (OSError, ValueError) as e:
            print(f"heapviz compare: cannot write {args.out}: {e}", file=sys.stderr)
            return 1
    elif notice:
        print(f"\n{notice}", file=sys.stderr)
    return 0
