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


def test_the_heap_options_are_spelled_the_same_everywhere() -> None:
    """Every subcommand that makes a heap takes heapviz.options' flags, spelled alike."""
    from heapviz import options

    flags = {o.flag for o in options.OPTIONS.values() if o.saved}
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in ("run", "view", "compare"):
        have = {s for a in sub.choices[name]._actions for s in a.option_strings}  # type: ignore[index]
        want = flags - ({"--policy"} if name == "compare" else set())
        assert want <= have, f"{name} lacks {sorted(want - have)}"
    trace = {s for a in sub.choices["trace"]._actions for s in a.option_strings}  # type: ignore[index]
    assert {"--policy", "--align", "--order", "--coalesce", "--checks", "--max-size",
            "--footer", "--no-footer"} <= trace


def test_every_output_file_can_be_given_as_o(tmp_path: Path) -> None:
    scen = tmp_path / "s.hv"
    scen.write_text("p = malloc 100\nq = malloc 20\nfree p\n")
    r = heapviz("run", str(scen), "-q", "-o", str(tmp_path / "s.hvlog"), "--out",
                str(tmp_path / "pics"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "s.hvlog").exists()
    if "renderer is not built" not in r.stderr:
        assert len(list((tmp_path / "pics").glob("step*.png"))) == 4
        v = heapviz("view", str(scen), "-o", str(tmp_path / "v.png"))
        assert v.returncode == 0 and (tmp_path / "v.png").stat().st_size > 1000, v.stderr
    clash = heapviz("run", str(scen), "-o", str(tmp_path / "a.hvlog"), "--record",
                    str(tmp_path / "b.hvlog"))
    assert clash.returncode == 2 and "both name" in clash.stderr
    c = heapviz("compare", str(scen), "--policy", "first", "-o", str(tmp_path / "c.png"))
    assert c.returncode == 0, c.stderr
