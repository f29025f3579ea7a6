"""`python -m heapviz view FILE`: the heap FILE leaves, in the window, with its whole history.

FILE is a recording (".hvlog"), a scenario (".hv"), a Python script (".py": the first heap it
used) or a CS:APP malloc-lab trace (".rep").  A scenario's variables are drawn as they are at
its end.  -o/--out FILE (or --png FILE) writes the final picture instead of opening a window.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from heapviz import render, viewer
from heapviz.heap import Heap
from heapviz.scenario import add_heap_options, heap_and_variables, heap_options


def load(path: str, **heap_options: Any) -> tuple[Heap, dict[str, int]]:
    """The heap FILE leaves and the variables to draw (scenario.heap_and_variables).

    `heap_options` override the file's own (policy, align, …).  Raises ValueError
    (ScenarioError, RecordingError, TraceError) or OSError with a clear message."""
    return heap_and_variables(path, **heap_options)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        help="a recording (.hvlog), scenario (.hv), Python script (.py) or malloc-lab trace "
        "(.rep)",
    )
    add_heap_options(parser)
    parser.add_argument("-o", "--out", "--png", dest="png", metavar="FILE",
                        help="write the final picture here instead of a window")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=800)


def main(args: argparse.Namespace) -> int:
    try:
        h, names = load(args.file, **heap_options(args))
    except (ValueError, OSError) as e:
        sys.stderr.write(f"heapviz view: {e}\n")
        return 2
    if args.png:
        render.render_png(h, args.png, width=args.width, vars=names or False)
        return 0
    if not viewer.display_available():
        sys.stderr.write(
            "heapviz view: no display (DISPLAY is not set, or SDL_VIDEODRIVER keeps SDL "
            "offscreen): write the picture with --png FILE instead\n"
        )
        return 2
    v = viewer.show(h, width=args.width, height=args.height, vars=names)
    v.script_ended(f"{os.path.basename(args.file)}: {len(h.events):,} events")
    return int(v.wait() or 0)


