"""`python -m heapviz`: --help everywhere, and every subcommand end to end once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from heapviz.__main__ import SUBCOMMANDS, build_parser

REPO = Path(__file__).resolve().parents[1]


def heapviz(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", PYTHONPATH=str(REPO))
    env.pop("DISPLAY", None)
    return subprocess.run([sys.executable, "-m", "heapviz", *argv], cwd=cwd or REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_top_level_help_lists_every_subcommand() -> None:
    p = heapviz("--help")
    assert p.returncode == 0, p.stderr
    for name in SUBCOMMANDS:
        assert name in p.stdout


def test_no_subcommand_prints_help_and_fails() -> None:
    p = heapviz()
    assert p.returncode == 2 and "usage:" in p.stdout


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_help_on_every_subcommand(name: str) -> None:
    p = heapviz(name, "--help")
    assert p.returncode == 0, p.stderr
    assert "usage:" in p.stdout.lower()
    assert "Traceback" not in p.stderr


def test_every_subcommand_is_registered() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == set(SUBCOMMANDS)  # type: ignore[arg-type]


def test_every_subcommand_end_to_end(tmp_path: Path) -> None:
    scen = tmp_path / "s.hv"
    scen.write_text("p = malloc 100\nq = malloc 20\nfree p\n")
    rep = tmp_path / "t.rep"
    rep.write_text("0\n2\n4\n1\na 0 100\na 1 20\nf 0\nf 1\n")
    assert heapviz("run", str(scen), "--record", str(tmp_path / "s.hvlog")).returncode == 0
    assert heapviz("compare", str(scen), "--policy", "first,best", "--no-picture"
                   ).returncode == 0
    assert heapviz("trace", str(rep)).returncode == 0
    assert heapviz("ostep", "-n", "3", "-c").returncode == 0
    d = heapviz("demo", "--out", str(tmp_path / "tour"), cwd=tmp_path)
    assert d.returncode == 0, d.stderr
    v = heapviz("view", str(rep), "--png", str(tmp_path / "v.png"))
    assert v.returncode == 0 or "renderer is not built" in v.stderr, v.stderr
