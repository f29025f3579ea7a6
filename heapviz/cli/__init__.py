"""The command line: `python -m heapviz SUBCOMMAND …` (heapviz.__main__).

Each subcommand is a module with `configure(parser)` and `main(args) -> int` and a one-line
docstring: `run` and `view` live here; `demo`, `ostep`, `trace` and `compare` are the modules
of their tools.  The options that make a heap are heapviz.options', spelled the same in every
subcommand; every output file can be given as -o/--out.
"""
