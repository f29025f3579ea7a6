"""Write synthetic CS:APP malloc-lab traces (.rep) with deterministic seeds.

The shapes follow the lab's own traces, so that heapviz is measured on more than the 11 files
in ../shared/traces (and so the benchmark still runs where those are absent):

  synth-random    random sizes (1..32 KiB), random interleaving of mallocs and frees
  synth-binary    alternating small/large blocks, every large one freed, then bigger ones
                  allocated: the pattern that defeats allocators without coalescing or
                  size classes (binary-bal)
  synth-realloc   one buffer grown by realloc step by step while small blocks come and go
                  around it (realloc-bal): rewards growing in place
  synth-coalesce  two neighbours freed and one block of their combined size allocated
                  (coalescing-bal): rewards immediate coalescing
  synth-small     many small objects of mixed sizes with stack-like lifetimes, as a compiler
                  allocates (cp-decl, expr)

Every trace is balanced (each id allocated once, freed once), as the lab's -bal traces are.

    python bench/gen_traces.py OUTDIR [--scale 0.1]
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable
from pathlib import Path

Op = tuple[str, int, int]  # ("a" | "r" | "f", id, size); size is 0 for "f"


def render(ops: list[Op], suggested_heap: int = 20_000_000) -> str:
    """The .rep text for a list of operations (header: heap, ids, ops, weight)."""
    ids = 1 + max((i for _, i, _ in ops), default=-1)
    lines = [str(suggested_heap), str(ids), str(len(ops)), "1"]
    for kind, i, size in ops:
        lines.append(f"f {i}" if kind == "f" else f"{kind} {i} {size}")
    return "\n".join(lines) + "\n"


def random_trace(n: int, seed: int, max_size: int = 32768) -> list[Op]:
    """n ids, each malloc'd once and freed once, in a random interleaving."""
    rng = random.Random(seed)
    ops: list[Op] = []
    live: list[int] = []
    nxt = 0
    while nxt < n or live:
        if nxt < n and (not live or rng.random() < 0.5):
            ops.append(("a", nxt, rng.randint(1, max_size)))
            live.append(nxt)
            nxt += 1
        else:
            k = rng.randrange(len(live))
            live[k], live[-1] = live[-1], live[k]
            ops.append(("f", live.pop(), 0))
    return ops


def binary_trace(n: int, seed: int) -> list[Op]:
    """n pairs of (small, large); free the large ones; allocate n larger ones; free all."""
    rng = random.Random(seed)
    small, large = rng.choice([(16, 112), (64, 448), (24, 200)])
    ops: list[Op] = []
    for k in range(n):
        ops.append(("a", 2 * k, small))
        ops.append(("a", 2 * k + 1, large))
    ops.extend(("f", 2 * k + 1, 0) for k in range(n))
    base = 2 * n
    ops.extend(("a", base + k, large + small) for k in range(n))
    ops.extend(("f", 2 * k, 0) for k in range(n))
    ops.extend(("f", base + k, 0) for k in range(n))
    return ops


def realloc_trace(n: int, seed: int) -> list[Op]:
    """One buffer grown n times by realloc while a small block is allocated and freed
    around each step."""
    rng = random.Random(seed)
    step = rng.choice([64, 128, 256])
    size = 4 * step
    ops: list[Op] = [("a", 0, size)]
    prev = -1
    for k in range(1, n + 1):
        ops.append(("a", k, rng.choice([16, 64, 128])))
        if prev > 0:
            ops.append(("f", prev, 0))
        size += step
        ops.append(("r", 0, size))
        prev = k
    ops.append(("f", prev, 0))
    ops.append(("f", 0, 0))
    return ops


def coalesce_trace(n: int, seed: int) -> list[Op]:
    """n rounds of: two neighbours allocated and freed, then one block of both sizes."""
    rng = random.Random(seed)
    ops: list[Op] = []
    i = 0
    for _ in range(n):
        s = rng.randint(1000, 5000)
        ops += [("a", i, s), ("a", i + 1, s), ("f", i, 0), ("f", i + 1, 0)]
        ops += [("a", i + 2, 2 * s), ("f", i + 2, 0)]
        i += 3
    return ops


def small_trace(n: int, seed: int) -> list[Op]:
    """n small objects (8..200 bytes, a few larger) with mostly stack-like lifetimes."""
    rng = random.Random(seed)
    sizes = [8, 12, 16, 24, 32, 40, 48, 64, 96, 128, 200]
    ops: list[Op] = []
    stack: list[int] = []
    nxt = 0
    while nxt < n or stack:
        if nxt < n and (not stack or rng.random() < 0.55):
            size = rng.choice(sizes) if rng.random() < 0.95 else rng.randint(500, 4000)
            ops.append(("a", nxt, size))
            stack.append(nxt)
            nxt += 1
        else:  # mostly the newest object dies first; sometimes an older one
            k = len(stack) - 1 if rng.random() < 0.8 else rng.randrange(len(stack))
            ops.append(("f", stack.pop(k), 0))
    return ops


SHAPES: dict[str, tuple[Callable[[int, int], list[Op]], int]] = {
    "synth-random": (random_trace, 2400),
    "synth-binary": (binary_trace, 2000),
    "synth-realloc": (realloc_trace, 3000),
    "synth-coalesce": (coalesce_trace, 2000),
    "synth-small": (small_trace, 4000),
}


def generate(outdir: Path, scale: float = 1.0, seed: int = 2024) -> list[Path]:
    """Write every shape into outdir; returns the paths.  Same seed, same bytes."""
    outdir.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, (name, (fn, n)) in enumerate(SHAPES.items()):
        path = outdir / f"{name}.rep"
        text = render(fn(max(4, int(n * scale)), seed + k))
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every trace's length")
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args(argv)
    for p in generate(args.outdir, args.scale, args.seed):
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
