"""A guided tour of the heap: allocation, splitting, coalescing, growth, and the common errors.

    python -m heapviz demo                 # the viewer window when there is a display
    python -m heapviz demo --out tour/     # else (or with --no-window) pictures + an HTML page
    python -m heapviz demo --text          # text only

The tour is a scenario (docs/scenarios.md) built into heapviz: it is written out as demo.hv next
to the pictures, so `python -m heapviz run tour/demo.hv` replays it, and every event names its
line.  Each chapter runs a few lines of it on a first-fit heap; the errors are expected at their
step, caught, and explained with heapviz's report.  Without the SDL renderer (heapviz built
without SDL2) the tour is shown as text, with a notice saying what to install.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import io
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heapviz import render, scenario, text
from heapviz.heap import Heap
from heapviz.leaks import leak_summary

HEADER = "heap policy=first size=4K align=16 coalesce=immediate checks=strict"


@dataclass
class Chapter:
    title: str
    explain: str
    code: str  # scenario lines
    first_line: int = 0
    last_line: int = 0
    results: list[scenario.StepResult] = field(default_factory=list)
    picture: str | None = None
    summary: str = ""  # the leak summary, for the last chapter

    def steps(self, sc: scenario.Scenario) -> list[scenario.Step]:
        return [s for s in sc.steps if self.first_line <= s.line <= self.last_line]

    @property
    def reports(self) -> list[str]:
        return [str(e) for r in self.results for e in r.errors]


CHAPTERS: tuple[tuple[str, str, str], ...] = (
    ("A fresh heap",
     "The heap starts as one free block, from its start to the break (4 KiB here). Every "
     "block begins with a 4-byte header (its size, and whether it is in use) and ends with a "
     "4-byte footer, the boundary tag; payloads are 16-byte aligned.",
     ""),
    ("malloc splits the free block",
     "malloc(100) needs 100 bytes plus header and footer, rounded up to 16: a 112-byte block "
     "is cut from the front of the free block (a split). The rest stays free.",
     "a = malloc 100"),
    ("More allocations",
     "Each request is carved from the front of the free block, which shrinks. calloc also "
     "zeroes the payload.",
     "b = malloc 20\nc = calloc 50 4\nd = malloc 20"),
    ("free puts the block on the free list",
     "free(a) marks a's block free and links it into the explicit free list, kept in address "
     "order. Its neighbour b is in use, so there is nothing to merge.",
     "free a"),
    ("Coalescing",
     "free(c), then free(b): b's neighbours a and c are both free, so the three blocks merge "
     "into one. The boundary tags tell the allocator where the neighbours begin.",
     "free c\nfree b"),
    ("First fit reuses the merged block",
     "malloc(40) walks the free list from its head and takes the first block large enough: "
     "the merged block at the start of the heap, split again.",
     "e = malloc 40"),
    ("The heap grows",
     "malloc(6000) fits nowhere in the 4 KiB heap: the allocator moves the break with sbrk, "
     "a page at a time, and carves the block from the grown free space.",
     "big = malloc 6000"),
    ("Common error: forgetting to allocate memory",
     "A pointer that was never given memory (here NULL) points at nothing: writing through "
     "it is a segmentation fault.",
     "s = NULL\nexpect SegmentationFault\nstrcpy s \"hello\""),
    ("Common error: not allocating enough memory",
     "malloc(strlen(\"hello\")) forgets the byte for the string's NUL: strcpy writes one byte "
     "past the end of the block.",
     "dst = malloc 5\nexpect BufferOverflow\nstrcpy dst \"hello\""),
    ("Common error: forgetting to initialize",
     "malloc'd memory holds whatever was there before: reading it before writing it is a "
     "bug (calloc would have zeroed it).",
     "x = malloc sizeof(int)\nexpect UninitializedRead\nread x:int[0]"),
    ("Common error: forgetting to free memory",
     "The only pointer to a block is overwritten: nobody can free it any more. The block "
     "leaks (it is drawn as leaked from now on).",
     "lost = malloc 64\nexpect Leak\nlost = NULL"),
    ("Common error: freeing memory before you are done with it",
     "d is freed, then written through: a dangling pointer. Its block may already belong "
     "to someone else.",
     "free d\nexpect UseAfterFree\nwrite d[0] 1"),
    ("Common error: freeing memory repeatedly",
     "d is freed a second time. A real allocator's free list would be corrupted; heapviz "
     "catches it first.",
     "expect DoubleFree\nfree d"),
    ("Common error: calling free() incorrectly",
     "free() needs exactly the pointer malloc returned, not one into the middle of a block.",
     "expect InvalidFree\nfree big + 50"),
    ("The end: free what is left",
     "The program frees the blocks it still holds. What no one can free any more is reported "
     "at exit, as valgrind reports it: the 64 bytes lost in the 'forgetting to free' step.",
     "free e\nfree big\nfree dst\nfree x"),
)


def build(path: str = "demo.hv") -> tuple[scenario.Scenario, list[Chapter], str]:
    """The tour as a scenario, its chapters (with their line ranges), and its text."""
    lines = ["# heapviz's guided tour (python -m heapviz demo); run it again with",
             "#   python -m heapviz run demo.hv --png steps/", HEADER, ""]
    chapters: list[Chapter] = []
    for title, explain, code in CHAPTERS:
        ch = Chapter(title, explain, code)
        lines.append(f"# --- {title}")
        ch.first_line = len(lines) + 1
        lines.append(f'note "{title}"')
        lines.extend(code.splitlines())
        ch.last_line = len(lines)
        lines.append("")
        chapters.append(ch)
    source = "\n".join(lines) + "\n"
    return scenario.parse(source, path), chapters, source


# --- which way to show it ---------------------------------------------------------------------


def _renderer() -> tuple[Any, str]:
    """heapviz.render when the SDL renderer is built, else (None, the reason)."""
    try:
        render.viz()
    except RuntimeError as e:
        return None, str(e)
    return render, ""


def _window_possible() -> bool:
    return scenario.display_available()


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--out", default="heapviz-demo",
                        help="folder for the pictures and the HTML page (default: %(default)s)")
    parser.add_argument("--text", action="store_true", help="text only: no window, no pictures")
    parser.add_argument("--no-window", action="store_true",
                        help="write pictures and a page even when a display is available")
    parser.add_argument("--delay", type=float, default=1.2,
                        help="seconds between steps in the window (default: %(default)s)")
    parser.add_argument("--width", type=int, default=1200, help="picture width (default 1200)")
    parser.add_argument("--animation", action="store_true",
                        help="also write the whole tour as an animated GIF (slower)")


def main(args: argparse.Namespace) -> int:
    render, why = (None, "") if args.text else _renderer()
    if not args.text and render is None:
        print("heapviz demo: pictures unavailable, showing the tour as text.\n"
              f"  ({why})\n", file=sys.stderr)
    mode = "text" if render is None else (
        "window" if not args.no_window and _window_possible() else "pictures")
    out = Path(args.out)
    sc, chapters, source = build(str(out / "demo.hv") if mode == "pictures" else "demo.hv")
    if mode == "pictures":
        try:
            out.mkdir(parents=True, exist_ok=True)
            (out / "demo.hv").write_text(source)
        except OSError as e:
            print(f"heapviz demo: cannot write into {out}: {e.strerror or e}", file=sys.stderr)
            return 1
    h = scenario.make_heap(sc.options, "demo")
    runner = scenario.Runner(sc, h)
    viewer = None
    if mode == "window":
        try:
            viewer = h.show()
        except (RuntimeError, OSError) as e:
            print(f"heapviz demo: the window did not open ({e}); writing pictures instead",
                  file=sys.stderr)
            mode = "pictures"
            out.mkdir(parents=True, exist_ok=True)
            (out / "demo.hv").write_text(source)
    status = 0
    total = len(chapters)
    for i, ch in enumerate(chapters, 1):
        for step in ch.steps(sc):
            res = runner.run_step(step)
            ch.results.append(res)
            if not res.ok:  # the tour itself is wrong: say so plainly
                print(f"heapviz demo: {res.failure}", file=sys.stderr)
                status = 1
                break
            if viewer is not None:
                time.sleep(args.delay)
        if i == total:
            ch.summary = leak_summary(h)
        if mode == "pictures":
            ch.picture = str(out / f"step{i:02d}.png")
            render.render_png(h, ch.picture, width=args.width,  # type: ignore[union-attr]
                              vars=runner.pointer_vars())
        _narrate(i, total, ch, h, mode)
        if status:
            break
    if mode == "pictures":
        extra = ""
        if args.animation:
            gif = out / "demo.gif"
            print(f"animation: rendering {gif} …", file=sys.stderr)
            render.render_timeline(h, str(gif), width=900)  # type: ignore[union-attr]
            extra = gif.name
        page = out / "index.html"
        page.write_text(_html(chapters, h, extra))
        print(f"\npictures: {out}/step01.png … step{total:02d}.png")
        print(f"HTML page: {page}")
        print(f"scenario: {out / 'demo.hv'} (python -m heapviz run {out / 'demo.hv'})")
    if viewer is not None:
        viewer.script_ended("the tour is over: close the window to finish")
        print("\nThe window shows the end of the tour; close it to finish.", file=sys.stderr)
        viewer.wait()
    h.checks = "off"
    with contextlib.redirect_stderr(io.StringIO()):  # the leak summary was shown already
        h.close()
    runner.vars.clear()
    return status


def _narrate(i: int, total: int, ch: Chapter, h: Heap, mode: str) -> None:
    """The chapter in the terminal: a progress line, and in text mode the whole story."""
    print(f"[{i:2d}/{total}] {ch.title}" + (f"  → {ch.picture}" if ch.picture else ""),
          flush=True)
    if mode == "pictures":
        return
    print(f"        {ch.explain}")
    for line in ch.code.splitlines():
        if not line.startswith("expect"):
            print(f"        > {line}")
    print("        " + text.strip(h))
    for report in ch.reports:
        print("\n".join("        │ " + line for line in report.splitlines()))
    if mode == "text" and not ch.reports:
        print(text.table(h))
    if ch.summary:
        print("\n".join("        " + line for line in ch.summary.splitlines()))
    print()


def _html(chapters: list[Chapter], h: Heap, animation: str) -> str:
    parts = [
        "<!doctype html><meta charset=utf-8><title>heapviz: a tour of the heap</title>",
        "<style>body{font-family:sans-serif;max-width:1250px;margin:auto;color:#2E3440}"
        "pre{background:#f4f4f4;padding:8px;white-space:pre-wrap}"
        "pre.err{background:#fbeee6;border-left:4px solid #D55E00}"
        "img{max-width:100%;border:1px solid #ddd}</style>",
        "<h1>heapviz: a tour of the heap</h1>",
        "<p>A first-fit heap with an explicit, address-ordered free list and immediate "
        "coalescing, run from the scenario <a href='demo.hv'>demo.hv</a> "
        "(<code>python -m heapviz run demo.hv --png steps/</code> runs it again).</p>",
    ]
    if animation:
        parts.append(f"<p>The whole tour as an animation: <a href='{html.escape(animation)}'>"
                     f"{html.escape(animation)}</a></p>")
    for i, ch in enumerate(chapters, 1):
        parts.append(f"<h2 id=step{i}>{i}. {html.escape(ch.title)}</h2>"
                     f"<p>{html.escape(ch.explain)}</p>")
        code = "\n".join(line for line in ch.code.splitlines() if not line.startswith("expect"))
        if code:
            parts.append(f"<pre>{html.escape(code)}</pre>")
        for report in ch.reports:
            parts.append(f"<pre class=err>{html.escape(report)}</pre>")
        if ch.summary:
            parts.append(f"<pre class=err>{html.escape(ch.summary)}</pre>")
        if ch.picture:
            parts.append(f"<img src='{html.escape(Path(ch.picture).name)}' "
                         f"alt='the heap after step {i}'>")
    s = h.stats()
    parts.append(f"<h2>At the end</h2><p>heap {s.heap_size} B, in use {s.in_use} B, free "
                 f"{s.free_bytes} B in {s.free_blocks} blocks, utilization "
                 f"{s.utilization:.0%}.</p>")
    return "\n".join(parts) + "\n"
