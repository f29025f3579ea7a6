"""`python -m heapviz run FILE`: run a scenario, a Python script or a recording, with pictures,
a GIF, a recording or the window.

    python -m heapviz run lesson.hv --policy best --png steps/ --gif run.gif
    python -m heapviz run lesson.py --record run.hvlog
    python -m heapviz run lesson.hv -o run.gif          # the output by its name (see -o)
    python -m heapviz run lesson.hv --view --step

FILE is a scenario (heapviz.scenario, docs/scenarios.md), a Python script (run with
`heap`/`h` bound to a heap made from the options; a script may also make its own
`heapviz.Heap(...)`: the options apply to it too, and its pictures and recording are written
before it is closed), or a recording (.hvlog).  The kind of FILE is scenario.files.file_kind's;
`main` dispatches on it (a new kind of input plugs in there, with its options in `configure`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from heapviz import options, recording, render, text, viewer
from heapviz.native import launch
from heapviz.scenario import (
    Runner,
    ScenarioError,
    add_heap_options,
    file_kind,
    heap_options,
    make_heap,
    read,
    run_script,
)


class Progress:
    """`what 12/40` on stderr, rewritten in place on a terminal, else every 10%."""

    def __init__(self, what: str, total: int, stream: TextIO | None = None,
                 enabled: bool | None = None) -> None:
        self.what, self.total, self.stream = what, total, stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = total >= 20 if enabled is None else enabled
        self.shown = -1

    def step(self, i: int) -> None:
        if not self.enabled:
            return
        if self.tty:
            print(f"\r{self.what} {i}/{self.total}", end="", file=self.stream, flush=True)
        else:
            tenth = i * 10 // max(1, self.total)
            if tenth != self.shown:
                self.shown = tenth
                print(f"{self.what} {i}/{self.total}", file=self.stream, flush=True)

    def done(self) -> None:
        if self.enabled and self.tty:
            print(f"\r{self.what} {self.total}/{self.total}", file=self.stream, flush=True)


def _renderer_or_exit(need: bool) -> Any:
    if not need:
        return None
    return render.viz() and render  # RuntimeError naming the missing packages


def history_pictures(h: Any, folder: str, width: int = 1200, prefix: str = "step") -> list[str]:
    """A PNG per operation of h's recorded history (step000.png is the empty heap)."""
    os.makedirs(folder, exist_ok=True)
    replay = render.viz().Replay(h)
    ops = int(replay.ops)
    paths = []
    prog = Progress("pictures", ops + 1)
    for k in range(ops + 1):
        path = os.path.join(folder, f"{prefix}{k:03d}.png")
        render.render_png(h, path, width=width, at=k)
        paths.append(path)
        prog.step(k + 1)
    prog.done()
    return paths


def _suffixed(path: str, i: int) -> str:
    """The output name for the i-th heap of a run: path itself, then path-2, path-3…"""
    if i == 0:
        return path
    base, ext = os.path.splitext(path)
    if base.endswith(".hvlog"):
        base, ext = base[:-6], ".hvlog" + ext
    return f"{base}-{i + 1}{ext}"




def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = ("FILE is a scenario (.hv or any text: docs/scenarios.md), a Python script "
                     "(.py, run with `heap`/`h` bound to the heap), or a recording (.hvlog).")
    parser.add_argument("file", metavar="FILE", help="scenario, Python script or recording")
    add_heap_options(parser)
    out = parser.add_argument_group("outputs")
    out.add_argument("--view", action="store_true", help="play the run in the viewer window")
    out.add_argument("--step", action="store_true",
                     help="with --view: wait for a key press after every step")
    out.add_argument("--delay", type=float, default=None,
                     help="with --view: seconds between scenario steps (default 0.6)")
    out.add_argument("--png", metavar="DIR", help="write a picture per step into DIR")
    out.add_argument("--gif", metavar="FILE",
                     help="write the whole run as an animated GIF (or APNG: .png/.apng)")
    out.add_argument("--record", metavar="FILE", help="write a recording (.hvlog) of the run")
    out.add_argument("-o", "--out", metavar="PATH", action="append", default=[],
                     help="an output by its name (may be repeated): FILE.hvlog[.gz] a "
                     "recording, FILE.gif/.apng/.png an animation, DIR/ a picture per step")
    out.add_argument("--width", type=int, default=1200, help="picture width (default 1200)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no step log")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print every error report and the block table after each step")
    parser.add_argument("args", nargs="*", metavar="-- ARG",
                        help="arguments for a Python script or a program (after --)")
    launch.add_run_options(parser)


def _summary(h: Any) -> str:
    s = h.stats()
    blocks = f"{s.free_blocks} free block{'' if s.free_blocks == 1 else 's'}"
    return (f"heap {s.heap_size} B, in use {s.in_use} B, free {s.free_bytes} B, largest free "
            f"{s.largest_free} B, {blocks}, utilization {s.utilization:.0%}")


class _Outputs:
    """--png/--gif/--record/--view for one run (checked up front, written per heap)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.render = _renderer_or_exit(bool(args.png or args.gif or args.view))
        if args.view and not viewer.display_available():
            raise RuntimeError("--view needs a display (DISPLAY is not set, or SDL_VIDEODRIVER "
                               "keeps SDL offscreen): write pictures with --png DIR or an "
                               "animation with --gif FILE instead")
        self.viewers: list[Any] = []
        self._shown: list[tuple[Any, Any]] = []
        self.written: list[str] = []
        self.errors: list[str] = []
        self.count = 0

    def show(self, h: Any) -> None:
        """Open a window on h.  A script's given heap gets one at once; when the script makes
        a heap of its own, the given heap's window closes if nothing happened in it."""
        if not self.args.view:
            return
        for other, v in list(self._shown):
            if other is not h and not other.closed and other._history()[1] == 0:
                v.close()
                self._shown.remove((other, v))
                self.viewers.remove(v)
        v = h.show(step=self.args.step)
        self._shown.append((h, v))
        self.viewers.append(v)

    def finish(self, h: Any, pictures: bool = True) -> None:
        """Write this heap's outputs (the i-th heap of a run gets names ending in -i): the
        recording first, the pictures, then the animation (the slowest)."""
        a, i = self.args, self.count
        self.count += 1
        if a.record:
            self._write(lambda: self._record(h, _suffixed(a.record, i)))
        if a.png and pictures:
            self._write(lambda: self._pictures(h, _suffixed(a.png, i)))
        if a.gif:
            self._write(lambda: self._animation(h, _suffixed(a.gif, i)))

    def _write(self, fn: Callable[[], str]) -> None:
        try:
            self.written.append(fn())
        except (RuntimeError, ValueError, OSError) as e:
            self.errors.append(str(e))

    @staticmethod
    def _record(h: Any, path: str) -> str:
        h.save(path)
        return f"recording: {path}"

    def _pictures(self, h: Any, folder: str) -> str:
        paths = history_pictures(h, folder, self.args.width)
        return f"pictures: {folder}/ ({len(paths)} steps)"

    def _animation(self, h: Any, path: str) -> str:
        ops = int(self.render.viz().Replay(h).ops)
        if ops >= 50:
            print(f"animation: drawing {min(ops + 1, 400)} frames into {path} …",
                  file=sys.stderr, flush=True)
        frames = self.render.render_timeline(h, path, width=min(self.args.width, 1000))
        return f"animation: {path} ({frames} frames)"

    def report(self) -> int:
        """Print what was written and what failed; 1 if something failed."""
        for line in self.written:
            print(line)
        for e in self.errors:
            print(f"heapviz run: {e}", file=sys.stderr)
        return 1 if self.errors else 0

    def wait_for_windows(self, text: str) -> None:
        for v in self.viewers:
            v.script_ended(text)
        if self.viewers:
            print("the window shows the final state; close it to finish", file=sys.stderr)
        for v in self.viewers:
            v.wait()


def output_kind(path: str) -> str:
    """What -o PATH writes, by its name: "record", "gif" or "png" (a folder of pictures)."""
    low = path.lower()
    if low.endswith((".hvlog", ".hvlog.gz")):
        return "record"
    if low.endswith((".gif", ".apng", ".png")):
        return "gif"
    return "png"


def _outputs_by_name(args: argparse.Namespace) -> str | None:
    """Fold -o/--out into --record, --gif and --png; an error message for a clash."""
    for path in args.out:
        kind = output_kind(path)
        if getattr(args, kind) not in (None, path):
            return f"-o {path} and --{kind} {getattr(args, kind)} both name the {kind} output"
        setattr(args, kind, path)
    return None


def main(args: argparse.Namespace) -> int:
    path = args.file
    if launch.is_program(path):  # an executable: a real C program (heapviz.native)
        return launch.run_program(args, heap_options(args))
    clash = _outputs_by_name(args)
    if clash:
        print(f"heapviz run: {clash}", file=sys.stderr)
        return 2
    if not os.path.exists(path):
        print(f"heapviz run: {path}: no such file", file=sys.stderr)
        return 2
    try:
        outputs = _Outputs(args)
    except RuntimeError as e:
        print(f"heapviz run: {e}", file=sys.stderr)
        return 2
    kind = file_kind(path)
    try:
        if kind == "python":
            return _main_script(args, outputs)
        if kind == "recording":
            return _main_recording(args, outputs)
        if kind == "trace":
            print(f"heapviz run: {path} is a malloc-lab trace: use `python -m heapviz trace "
                  f"{path}` or `python -m heapviz compare {path}`", file=sys.stderr)
            return 2
        return _main_scenario(args, outputs)
    except (ScenarioError, OSError) as e:
        print(f"heapviz run: {e}", file=sys.stderr)
        return 2
    except ValueError as e:  # RecordingError, TraceError
        print(f"heapviz run: {e}", file=sys.stderr)
        return 2


def _main_scenario(args: argparse.Namespace, outputs: _Outputs) -> int:
    sc = read(args.file)
    given = {**sc.options, **heap_options(args)}
    h = make_heap(given, args.file)
    runner = Runner(sc, h)
    say = (lambda s: None) if args.quiet else print
    say(f"{args.file}: {options.describe(given)}")
    outputs.show(h)
    delay = args.delay if args.delay is not None else (0.6 if args.view and not args.step else 0)
    pictures: list[str] = []
    render = outputs.render
    if args.png:
        os.makedirs(args.png, exist_ok=True)

    def picture(k: int) -> None:
        if args.png:
            path = os.path.join(args.png, f"step{k:03d}.png")
            render.render_png(h, path, width=args.width, vars=runner.pointer_vars())
            pictures.append(path)

    progress = Progress("steps", len(sc.steps), enabled=bool(args.png) and len(sc.steps) >= 20
                        and args.quiet)
    picture(0)
    caught = 0
    for k, res in enumerate(runner, 1):
        step = res.step
        note = res.describe() if res.ok else "✗"
        say(f"{step.line:5d}  {step.text[:48]:<48} {note}".rstrip())
        if args.verbose and not args.quiet:
            for e in res.errors:
                print("\n".join("       │ " + line for line in str(e).splitlines()))
            print(text.table(h))
        if res.ok and step.expect and step.expect not in ("NULL",):
            caught += 1
        picture(k)
        progress.step(k)
        if delay and outputs.viewers:
            time.sleep(delay)
    progress.done()
    failure = runner.failure
    if failure is not None:
        print(failure.failure, file=sys.stderr)
    ran = len(runner.results)
    say(f"{ran} of {len(sc.steps)} steps ran; {caught} expected error"
        f"{'' if caught == 1 else 's'} caught.")
    say(_summary(h))
    if args.png:
        outputs.written.append(f"pictures: {args.png}/ ({len(pictures)} steps)")
    outputs.finish(h, pictures=False)
    failed = outputs.report()
    outputs.wait_for_windows((failure.failure or "").split("\n")[0][:150] if failure else
                             f"{os.path.basename(args.file)}: done")
    # The scenario's pointers are still alive at the end, as a C program's are at exit.
    h.checks = "off"
    h.close()
    runner.vars.clear()
    return 1 if failure is not None else failed


def _main_script(args: argparse.Namespace, outputs: _Outputs) -> int:
    status, heaps = run_script(args.file, heap_options(args), on_close=outputs.finish,
                               view=outputs.show if args.view else None, argv=args.args)
    if not outputs.count:
        print(f"{args.file}: the script used no heap", file=sys.stderr)
    failed = outputs.report()
    outputs.wait_for_windows(f"{os.path.basename(args.file)}: exit status {status}")
    for h in heaps:
        h.close()
    return status or failed


def _main_recording(args: argparse.Namespace, outputs: _Outputs) -> int:
    rec = recording.load(args.file)
    overrides = heap_options(args)
    h = rec.replay(overrides=overrides or None, verify=not overrides)
    if not args.quiet:
        print(f"{args.file}: {rec.steps} steps, {len(rec.events)} events replayed "
              f"({options.describe(rec.config)})")
        print(_summary(h))
    outputs.show(h)
    outputs.finish(h)
    failed = outputs.report()
    outputs.wait_for_windows(f"{os.path.basename(args.file)}: replayed")
    h.checks = "off"
    h.close()
    return failed

