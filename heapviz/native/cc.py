"""compile a C program to run on heapviz: `heapviz cc [gcc/clang arguments] -o prog prog.c`

The compiler is $CC (gcc by default; gcc and clang are both supported) with the arguments
given, plus:

- `-g` and frame pointers (reports name `function (file.c:LINE)`, stacks are cheap);
- `-fno-builtin`: the compiler may not delete a malloc/free pair, or a malloc whose block
  is never used — the very leaks the homework is about —, nor turn strcpy into stores or
  printf into puts: every libc call the program makes reaches heapviz's checked one, as
  under valgrind;
- the compiler's own sanitizer instrumentation in outline mode,
  `-fsanitize=kernel-address` with a call per access (`__asan_load4_noabort(addr)`),
  heap only (no stack or global redzones) — heapviz's runtime answers the calls;
- `-U_FORTIFY_SOURCE` (the checked libc calls are heapviz's);
- at link time, heapviz's two libraries (the runtime and the instrumentation library),
  found through an rpath: the program then runs on its own (`./prog`) with heapviz's checks,
  and under `heapviz run ./prog` with heapviz's options.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys

from heapviz.native import launch

# asan-memintrin=0: gcc neither checks a memcpy's range itself (the checked memcpy does,
# once) nor skips the checks of the bytes it "covered" afterwards.
GCC_FLAGS = ["-fsanitize=kernel-address", "--param", "asan-instrumentation-with-call-threshold=0",
             "--param", "asan-stack=0", "--param", "asan-globals=0",
             "--param", "asan-memintrin=0"]
# clang's kernel mode would poison the stack inline at 0xdffffc0000000000 (a crash in
# user space in any function with an address-taken local): stack and globals off.
CLANG_FLAGS = ["-fsanitize=kernel-address", "-mllvm", "-asan-instrumentation-with-call-threshold=0",
               "-mllvm", "-asan-stack=0", "-mllvm", "-asan-globals=0"]
COMMON = ["-g", "-fno-omit-frame-pointer", "-fno-builtin", "-fno-plt", "-U_FORTIFY_SOURCE"]
# Arguments after which the compiler does not link.
NO_LINK = ("-c", "-S", "-E", "-M", "-MM", "-fsyntax-only")
REFUSED = {
    "-static": "a static program cannot use heapviz's runtime (a shared library)",
    "-static-pie": "a static program cannot use heapviz's runtime (a shared library)",
}


class CompilerError(Exception):
    pass


def compiler() -> list[str]:
    """$CC as a command (it may carry arguments: CC="ccache gcc")."""
    return shlex.split(os.environ.get("CC") or "gcc")


def family(cmd: list[str]) -> str:
    """"clang" or "gcc", from what the compiler says of itself."""
    try:
        out = subprocess.run([*cmd, "--version"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        raise CompilerError(f"the compiler {' '.join(cmd)!r} cannot be run: {e}") from None
    return "clang" if "clang" in out.lower() else "gcc"


def command(args: list[str], cmd: list[str] | None = None) -> list[str]:
    """The full compiler command line for the user's arguments."""
    cmd = cmd or compiler()
    for a in args:
        if a in REFUSED:
            raise CompilerError(f"{a}: {REFUSED[a]}")
        if a.startswith("-fsanitize=") and a != "-fsanitize=kernel-address":
            raise CompilerError(f"{a}: heapviz's instrumentation is a sanitizer of its own; "
                                "leave out other sanitizers")
    flags = CLANG_FLAGS if family(cmd) == "clang" else GCC_FLAGS
    full = [*cmd, *COMMON, *flags, *args]
    if not any(a in NO_LINK for a in args):
        native = str(launch.NATIVE)
        full += [f"-L{native}", f"-Wl,-rpath,{native}", "-Wl,--no-as-needed",
                 "-lheapviz_cc", "-lheapviz_rt", "-Wl,--as-needed"]
    return full


def configure(parser: argparse.ArgumentParser) -> None:
    """For `heapviz --help` only: the compiler's arguments are not parsed by argparse
    (they are gcc's, `-o` included); __main__ hands them to run_cli as they are."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = __doc__
    parser.add_argument("compiler_args", nargs=argparse.REMAINDER, metavar="ARG",
                        help="arguments for the compiler, as for gcc or clang")


def main(args: argparse.Namespace) -> int:
    return run_cli(list(args.compiler_args))


def run_cli(argv: list[str]) -> int:
    """`heapviz cc ARGS…`: compile, as the compiler would, on heapviz.  heapviz's own
    flags: --help, and --print-command (show the command line, do not run it)."""
    if argv[:1] in (["-h"], ["--help"]):
        print("usage: python -m heapviz cc [--print-command] [gcc/clang arguments] -o prog "
              f"prog.c\n\n{__doc__}")
        return 0
    print_only = "--print-command" in argv
    cc_args = [a for a in argv if a != "--print-command"]
    if cc_args[:1] == ["--"]:
        cc_args = cc_args[1:]
    if not cc_args:
        print("heapviz cc: no input files (usage: heapviz cc [gcc/clang arguments] -o prog "
              "prog.c)", file=sys.stderr)
        return 2
    try:
        launch.check_runtime()
        full = command(cc_args)
    except (CompilerError, launch.LaunchError) as e:
        print(f"heapviz cc: {e}", file=sys.stderr)
        return 2
    if print_only:
        print(shlex.join(full))
        return 0
    try:
        return subprocess.run(full, check=False).returncode
    except OSError as e:
        print(f"heapviz cc: {full[0]}: {e.strerror}", file=sys.stderr)
        return 127
