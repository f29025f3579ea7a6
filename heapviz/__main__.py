"""`python -m heapviz SUBCOMMAND …` — every subcommand lives in its own module.

Each module named in SUBCOMMANDS provides `configure(parser: argparse.ArgumentParser) -> None`
and `main(args: argparse.Namespace) -> int`, plus a one-line module docstring used as help.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from heapviz.native import cc, launch

SUBCOMMANDS: dict[str, str] = {
    "demo": "heapviz.demo",
    "ostep": "heapviz.ostep",
    "trace": "heapviz.trace",
    "run": "heapviz.cli.run",
    "compare": "heapviz.compare",
    "view": "heapviz.cli.view",
    "cc": "heapviz.native.cc",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line; with `only`, that subcommand alone (its modules alone imported:
    `heapviz run PROGRAM` starts a C program sooner)."""
    parser = argparse.ArgumentParser(
        prog="python -m heapviz", description="heapviz: watch a heap allocator at work."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, modname in SUBCOMMANDS.items():
        if only is not None and name != only:
            continue
        try:
            mod = importlib.import_module(modname)
        except ImportError:
            continue
        doc = (mod.__doc__ or name).strip().splitlines()[0]
        p = sub.add_parser(name, help=doc, description=doc)
        mod.configure(p)
        p.set_defaults(_module=mod)
    return parser


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["ostep"]:
        # malloc.py's own option parser (optparse), reproduced as is, owns everything after.
        return importlib.import_module("heapviz.ostep").run_cli(argv[1:])
    if argv[:1] == ["cc"]:  # gcc's arguments, -o included, are not argparse's
        return cc.run_cli(argv[1:])
    parser = build_parser("run" if argv[:1] == ["run"] else None)
    if argv[:1] == ["run"]:  # a program's own options are not run's
        argv = ["run", *launch.program_args(argv[1:], _subparser(parser, "run"))]
    args = parser.parse_args(argv)
    if getattr(args, "_module", None) is None:
        parser.print_help()
        return 2
    return int(args._module.main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
