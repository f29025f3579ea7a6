"""`heapviz run [options] [--] PROGRAM [ARGS…]`: a real program on heapviz's allocator.

A `heapviz cc` program brings the runtime itself (it is linked in); any other dynamically
linked program gets it through LD_PRELOAD.  The options travel in the environment
(HEAPVIZ_OPTIONS, read by the runtime as ASAN_OPTIONS is read), with the names `heapviz
run` takes: the heap options of scenarios and scripts, and valgrind's --leak-check,
--show-leak-kinds, --errors-for-leak-kinds, --error-exitcode and --trace-children.

The program's stdin, stdout and stderr are the launcher's; its exit status is the
launcher's, and a program killed by a signal kills the launcher with the same signal.
Issue 12's viewer will attach to the program's arena: `start(…, arena=True)` receives the
arena's memfd from the runtime (over a socket named in HEAPVIZ_ARENA_SOCKET) before the
program runs a line; the viewer maps it read-only, as it maps a Python heap's.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from heapviz.native import elf

NATIVE = Path(__file__).resolve().parent
RUNTIME = NATIVE / "libheapviz_rt.so"
CC_LIBRARY = NATIVE / "libheapviz_cc.so"

LEAK_CHECKS = ("no", "summary", "full")
LEAK_KINDS = ("definite", "indirect", "possible", "reachable")
# The files `run` reads itself; everything else that is executable is a program.
_OWN_SUFFIXES = (".hv", ".py", ".hvlog", ".rep", ".txt")


class LaunchError(Exception):
    """The program cannot be run on heapviz (a sentence for the student)."""


def _kinds(text: str) -> str:
    """valgrind's kind list: all, none, or definite,indirect,possible,reachable."""
    if text in ("all", "none"):
        return text
    parts = [p.strip() for p in text.split(",")]
    bad = [p for p in parts if p not in LEAK_KINDS]
    if bad or not parts:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give all, none, or a list of {', '.join(LEAK_KINDS)}")
    return ",".join(parts)


def _bytes(text: str) -> int:
    """A size as the heap options take it (4096, 64K, 1MiB)."""
    m = re.fullmatch(r"(\d+)\s*([kKmMgG]?)(i?[bB])?", text.strip())
    if m is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (examples: 65536, 64K, 1M)")
    return int(m.group(1)) << {"": 0, "k": 10, "m": 20, "g": 30}[m.group(2).lower()]


def _exit_code(text: str) -> int:
    try:
        n = int(text, 0)
    except ValueError:
        n = -1
    if not 0 <= n <= 255:
        raise argparse.ArgumentTypeError(f"{text!r} is not an exit status (0 to 255)")
    return n


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options of `heapviz run` that only programs take (valgrind's names)."""
    g = parser.add_argument_group("C programs (heapviz run PROGRAM; docs/c_programs.md)")
    g.add_argument("--leak-check", choices=LEAK_CHECKS, default=None,
                   help="the leak check at exit: no, summary, or full (default)")
    g.add_argument("--show-leak-kinds", type=_kinds, default=None, metavar="KINDS",
                   help="loss records shown: definite,possible (default), all, none, …")
    g.add_argument("--errors-for-leak-kinds", type=_kinds, default=None, metavar="KINDS",
                   help="leak kinds counted as errors (default definite,possible)")
    g.add_argument("--error-exitcode", type=_exit_code, default=None, metavar="N",
                   help="exit with status N when errors were found")
    g.add_argument("--trace-children", action="store_true",
                   help="run the program's children on heapviz too")
    g.add_argument("--quarantine", type=_bytes, default=None, metavar="BYTES",
                   help="hold freed blocks back until BYTES of newer frees (catches use "
                   "after free of a block first fit would reuse; default 0)")


# --------------------------------------------------------------------------------------------
# Finding the program
# --------------------------------------------------------------------------------------------


def find_program(name: str) -> str | None:
    """The executable `name` means, as a shell finds it (a path, or a name on PATH), or
    None when `name` is a file `run` reads itself (scenario, script, recording)."""
    if os.path.exists(name):
        if os.path.isdir(name) or not os.access(name, os.X_OK):
            return None
        if name.endswith(_OWN_SUFFIXES) and not elf.inspect(name).elf:
            return None
        return os.path.abspath(name)
    if os.sep in name:
        return None
    return shutil.which(name)


def is_program(name: str) -> bool:
    return find_program(name) is not None


def program_args(argv: list[str], run_parser: argparse.ArgumentParser) -> list[str]:
    """`run`'s arguments with "--" put before the program, so that its own options
    (`heapviz run sort -n f`) are not taken for run's."""
    takes_value = {opt for action in run_parser._actions for opt in action.option_strings
                   if action.nargs != 0}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            return argv
        if a.startswith("-") and a != "-":
            i += 2 if a in takes_value else 1
            continue
        return [*argv[:i], "--", *argv[i:]] if is_program(a) else argv
    return argv


# --------------------------------------------------------------------------------------------
# The environment
# --------------------------------------------------------------------------------------------


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def options_text(heap_options: dict[str, Any], args: argparse.Namespace) -> str:
    """HEAPVIZ_OPTIONS for these options."""
    opts = {k: _value(v) for k, v in heap_options.items()}
    for name in ("leak_check", "show_leak_kinds", "errors_for_leak_kinds", "error_exitcode",
                 "quarantine"):
        value = getattr(args, name, None)
        if value is not None:
            opts[name] = _value(value)
    if getattr(args, "trace_children", False):
        opts["trace_children"] = "true"
    if getattr(args, "quiet", False):
        opts["quiet"] = "true"
    bad = [f"{k}={v}" for k, v in opts.items() if ":" in v]
    if bad:
        raise LaunchError(f"option values may not contain ':' ({', '.join(bad)})")
    return ":".join(f"{k}={v}" for k, v in opts.items())


def check_runtime() -> None:
    if not RUNTIME.exists():
        raise LaunchError(f"the C runtime is not built ({RUNTIME} is missing): run `make "
                          "build`; it needs gcc's libbacktrace (Debian/Ubuntu: apt-get "
                          "install libgcc-12-dev)")


def environment(program: str, options: str, base: dict[str, str] | None = None,
                ) -> dict[str, str]:
    """The environment `program` runs in: HEAPVIZ_OPTIONS, and LD_PRELOAD unless it
    brings the runtime itself.  Refuses what cannot be preloaded."""
    check_runtime()
    ex = elf.inspect(program)
    env = dict(os.environ if base is None else base)
    env["HEAPVIZ_OPTIONS"] = options
    if ex.elf and ex.heapviz_cc:
        return env
    if ex.elf and not ex.dynamic:
        raise LaunchError(f"{program} is statically linked: its malloc is inside it, out of "
                          "a preloaded allocator's reach. Build it with `heapviz cc` (or "
                          "without -static) to run it on heapviz")
    if ex.setuid:
        raise LaunchError(f"{program} is setuid or setgid: the dynamic linker ignores "
                          "LD_PRELOAD for such programs (it would give the program's "
                          "privileges to any library)")
    pre = env.get("LD_PRELOAD", "")
    env["LD_PRELOAD"] = f"{RUNTIME}:{pre}" if pre else str(RUNTIME)
    return env


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


def _unsupported(args: argparse.Namespace) -> str | None:
    for flag in ("view", "png", "gif", "record", "step"):
        if getattr(args, flag, None):
            return (f"--{flag} is not available for C programs yet (the window, pictures "
                    "and recordings of a C run come with issue 12)")
    return None


def run_program(args: argparse.Namespace, heap_options: dict[str, Any]) -> int:
    """The `run` subcommand for an executable: its exit status (or death by its
    signal)."""
    name = args.file
    program = find_program(name)
    prefix = "heapviz run"
    if program is None:
        print(f"{prefix}: {name}: no such program", file=sys.stderr)
        return 127
    problem = _unsupported(args)
    if problem:
        print(f"{prefix}: {problem}", file=sys.stderr)
        return 2
    try:
        env = environment(program, options_text(heap_options, args))
    except LaunchError as e:
        print(f"{prefix}: {e}", file=sys.stderr)
        return 2
    return run(program, [name, *args.args], env)


def start(program: str, argv: list[str], env: dict[str, str], arena: bool = False,
          timeout: float = 30) -> tuple[subprocess.Popen[bytes], int | None]:
    """Start the program; with `arena`, also receive its arena's memfd (None when the
    runtime did not send one: a static program, a runtime that failed to start)."""
    if not arena:
        return subprocess.Popen(argv, executable=program, env=env), None
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        env = {**env, "HEAPVIZ_ARENA_SOCKET": str(theirs.fileno())}
        proc = subprocess.Popen(argv, executable=program, env=env, pass_fds=[theirs.fileno()])
        theirs.close()
        ours.settimeout(timeout)
        try:
            _, fds, _, _ = socket.recv_fds(ours, 1, 1)
        except (OSError, TimeoutError):
            fds = []
        return proc, (fds[0] if fds else None)
    finally:
        ours.close()
        theirs.close()


def run(program: str, argv: list[str], env: dict[str, str]) -> int:
    """Run and wait; pass on the exit status, or die of the same signal."""
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)  # the child gets it and decides
    try:
        proc = subprocess.run(argv, executable=program, env=env, check=False)
    except OSError as e:
        print(f"heapviz run: {program}: {e.strerror}", file=sys.stderr)
        return 126
    finally:
        signal.signal(signal.SIGINT, old)
    if proc.returncode < 0:
        sig = -proc.returncode
        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        return 128 + sig  # not reached, unless the signal is blocked
    return proc.returncode
