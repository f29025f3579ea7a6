"""A guided tour of the Memory API and free-space management chapters."""

from __future__ import annotations

import argparse
import html
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import heapviz
from heapviz import text


@dataclass
class Step:
    title: str
    explain: str
    code: str
    run: Callable[[dict[str, object]], None]


def _steps() -> list[Step]:
    """The tour: each step is a line of C the student knows, run on the heap."""

    def s(title: str, explain: str, code: str) -> Callable[[Callable[[dict[str, object]], None]], Step]:
        def wrap(fn: Callable[[dict[str, object]], None]) -> Step:
            return Step(title, explain, code, fn)

        return wrap

    steps: list[Step] = []

    @s("A fresh heap", "The heap is one free block from its start to the break. Every block "
       "begins with a 4-byte header (size and flags) and ends with a 4-byte footer.",
       "h = Heap(policy='first')")
    def _fresh(v: dict[str, object]) -> None:
        pass

    steps.append(_fresh)

    @s("malloc splits the free block", "malloc(100) needs 100 bytes plus header and footer, "
       "rounded up to 16: a 112-byte block is cut from the front of the free block.",
       "a = malloc(100)")
    def _m1(v: dict[str, object]) -> None:
        v["a"] = H().malloc(100)

    steps.append(_m1)

    @s("More allocations", "Each request is carved from the free block, which shrinks.",
       "b = malloc(20); c = malloc(200); d = malloc(20)")
    def _m2(v: dict[str, object]) -> None:
        v["b"], v["c"], v["d"] = H().malloc(20), H().malloc(200), H().malloc(20)

    steps.append(_m2)

    @s("free puts a block on the free list", "free(a) marks a's block free and links it "
       "into the explicit free list (kept in address order).", "free(a)")
    def _f1(v: dict[str, object]) -> None:
        H().free(v["a"])  # type: ignore[arg-type]

    steps.append(_f1)

    @s("Coalescing", "free(c) then free(b): b's neighbours a and c are free, so the three "
       "blocks merge into one (their boundary tags tell the allocator where they begin).",
       "free(c); free(b)")
    def _f2(v: dict[str, object]) -> None:
        H().free(v["c"])  # type: ignore[arg-type]
        H().free(v["b"])  # type: ignore[arg-type]

    steps.append(_f2)

    @s("The heap grows", "malloc(6000) does not fit in the 4 KiB heap: the allocator moves the "
       "break with sbrk, a page at a time, and extends the free block at the top.",
       "big = malloc(6000)")
    def _g(v: dict[str, object]) -> None:
        v["big"] = H().malloc(6000)

    steps.append(_g)

    errors: list[tuple[str, str, str, Callable[[dict[str, object]], None]]] = [
        ("Forgetting to allocate", "A NULL pointer points at no memory.", "NULL[0] = 1",
         lambda v: heapviz.NULL.__setitem__(0, 1)),
        ("Not allocating enough", "malloc(strlen(s)) forgets the byte for the NUL.",
         "dst = malloc(strlen(\"hello\")); strcpy(dst, \"hello\")",
         lambda v: heapviz.strcpy(H().malloc(5), "hello")),
        ("Forgetting to initialize", "malloc'd memory holds garbage until written.",
         "x = malloc(sizeof(int)); printf(\"%d\", *x)",
         lambda v: H().malloc(4).cast("int")[0]),
        ("Freeing before you are done", "d is used after it was freed.",
         "free(d); d[0] = 'x'", lambda v: (H().free(v["d"]), v["d"].__setitem__(0, 1))),  # type: ignore[union-attr]
        ("Freeing repeatedly", "d is freed a second time.", "free(d)",
         lambda v: H().free(v["d"])),  # type: ignore[arg-type]
        ("Calling free() incorrectly", "free() needs the pointer malloc returned, not one "
         "into the middle of the block.", "free(big + 50)",
         lambda v: H().free(v["big"] + 50)),  # type: ignore[operator]
    ]
    for title, why, code, fn in errors:
        steps.append(Step(f"Common error: {title}", why, code, _catching(fn)))
    return steps


_HEAP: list[heapviz.Heap] = []


def H() -> heapviz.Heap:
    return _HEAP[-1]


def _catching(fn: Callable[[dict[str, object]], None]) -> Callable[[dict[str, object]], None]:
    def run(v: dict[str, object]) -> None:
        try:
            fn(v)
        except heapviz.HeapError as err:
            v["_error"] = err

    return run


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="heapviz-demo",
                        help="folder for the pictures and the HTML page (default: %(default)s)")
    parser.add_argument("--text", action="store_true",
                        help="text only: no window, no pictures")
    parser.add_argument("--no-window", action="store_true",
                        help="never open the SDL window, even when a display is available")
    parser.add_argument("--delay", type=float, default=1.5,
                        help="seconds between steps in the window (default: %(default)s)")


def _renderer() -> object | None:
    try:
        from heapviz import render
    except ImportError as err:
        print(f"(pictures unavailable: {err})", file=sys.stderr)
        return None
    return render


def main(args: argparse.Namespace) -> int:
    steps = _steps()
    out = Path(args.out)
    render = None if args.text else _renderer()
    window = (not args.text and not args.no_window and os.environ.get("DISPLAY")
              and render is not None)
    v: dict[str, object] = {}
    pages: list[tuple[Step, str | None, str]] = []
    with heapviz.Heap(policy="first") as h:
        _HEAP.append(h)
        if window:
            h.show()
        if render is not None:
            out.mkdir(parents=True, exist_ok=True)
        for i, step in enumerate(steps, 1):
            v.pop("_error", None)
            step.run(v)
            print(f"\n[{i}/{len(steps)}] {step.title}\n    {step.code}\n    {step.explain}")
            print("    " + text.strip(h))
            err = v.get("_error")
            report = str(err) if err is not None else ""
            if report:
                print("\n".join("    │ " + line for line in report.splitlines()))
            else:
                print(text.table(h))
            png = None
            if render is not None:
                png = str(out / f"step{i:02d}.png")
                h.render(png, width=1200)
            pages.append((step, png, report))
            if window:
                time.sleep(args.delay)
        h.checks = "off"
        for name in list(v):
            v.pop(name)
        _HEAP.pop()
    if render is not None:
        page = out / "index.html"
        page.write_text(_html(pages))
        print(f"\npictures: {out}/step01.png … step{len(steps):02d}.png\nHTML page: {page}")
    return 0


def _html(pages: list[tuple[Step, str | None, str]]) -> str:
    parts = ["<!doctype html><meta charset=utf-8><title>heapviz demo</title>",
             "<style>body{font-family:sans-serif;max-width:1250px;margin:auto}"
             "pre{background:#f4f4f4;padding:8px}</style><h1>heapviz: a tour of the heap</h1>"]
    for i, (step, png, report) in enumerate(pages, 1):
        parts.append(f"<h2>{i}. {html.escape(step.title)}</h2><p>{html.escape(step.explain)}"
                     f"</p><pre>{html.escape(step.code)}</pre>")
        if report:
            parts.append(f"<pre>{html.escape(report)}</pre>")
        if png:
            parts.append(f"<img src='{html.escape(Path(png).name)}' width=1200>")
    return "\n".join(parts)
