"""`python -m heapviz compare`: one file under several policies, a table and one picture."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

import heapviz
from heapviz import compare, render
from heapviz.__main__ import main as cli

REPO = Path(__file__).resolve().parents[1]
FRAG = REPO / "examples" / "fragmentation.hv"
needs_renderer = pytest.mark.skipif(not render.available(), reason="the SDL renderer is not built")


def cli_run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = cli(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def synthetic_trace(path: Path, n: int = 60, seed: int = 1) -> Path:
    """A small malloc-lab trace: mallocs, reallocs and frees of random sizes."""
    rnd = random.Random(seed)
    ops: list[str] = []
    live: list[int] = []
    next_id = 0
    while len(ops) < n:
        if live and rnd.random() < 0.4:
            i = live.pop(rnd.randrange(len(live)))
            ops.append(f"f {i}")
        elif live and rnd.random() < 0.2:
            ops.append(f"r {rnd.choice(live)} {rnd.randint(1, 600)}")
        else:
            ops.append(f"a {next_id} {rnd.randint(1, 600)}")
            live.append(next_id)
            next_id += 1
    path.write_text(f"1000\n{next_id}\n{len(ops)}\n1\n" + "\n".join(ops) + "\n")
    return path


def test_policies_differ_on_the_fragmentation_example() -> None:
    outs = compare.compare(str(FRAG), ["first", "best", "worst", "buddy"], picture=False)
    assert [o.policy for o in outs] == ["first", "best", "worst", "buddy"]
    assert all(o.stats is not None and not o.note for o in outs)
    largest = {o.policy: o.stats.largest_free for o in outs if o.stats}
    assert largest["best"] > largest["first"] > largest["worst"]
    assert outs[3].stats and outs[3].stats.frag_internal > outs[0].stats.frag_internal  # type: ignore[union-attr]


def test_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = cli_run(["compare", str(FRAG), "--policy", "first,best", "--no-picture"],
                           capsys)
    assert rc == 0, err
    header = out.splitlines()[2]
    for col in ("policy", "heap", "in use", "free", "largest free", "ext frag", "int frag",
                "utilization", "failed"):
        assert col in header
    assert [line.split()[0] for line in out.splitlines()[4:6]] == ["first", "best"]
    rc, out, _ = cli_run(["compare", str(FRAG), "--policy", "worst", "--json"], capsys)
    data = json.loads(out)
    assert rc == 0 and data[0]["policy"] == "worst" and data[0]["heap_size"] == 4096


@needs_renderer
def test_one_combined_picture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    out = tmp_path / "cmp.png"
    rc, stdout, err = cli_run(["compare", str(FRAG), "--policy", "first,best,buddy", "--out",
                               str(out), "--width", "500"], capsys)
    assert rc == 0, err
    assert f"picture: {out}" in stdout
    im = Image.open(out)
    single = Image.open(__import__("io").BytesIO(
        compare.compare(str(FRAG), ["first"], width=500)[0].png or b""))
    assert im.width == single.width and im.height > 3 * single.height


def test_traces_scripts_and_recordings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rep = synthetic_trace(tmp_path / "syn.rep")
    rc, out, err = cli_run(["compare", str(rep), "--policy", "first,segregated,buddy",
                            "--no-picture"], capsys)
    assert rc == 0, err
    assert "segregated" in out and "buddy" in out
    script = tmp_path / "s.py"
    script.write_text("ps = [heap.malloc(n) for n in (100, 30, 300, 30, 200)]\n"
                      "heap.free(ps[0]); heap.free(ps[2])\nx = heap.malloc(90)\n")
    data = json.loads(cli_run(["compare", str(script), "--policy", "first,worst", "--json"],
                              capsys)[1])
    assert [d["policy"] for d in data] == ["first", "worst"]
    assert data[0]["largest_free"] != data[1]["largest_free"]
    h = heapviz.Heap()
    ps = [h.malloc(n) for n in (100, 30, 300)]
    h.free(ps[0])
    h.save(str(tmp_path / "r.hvlog"))
    data = json.loads(cli_run(["compare", str(tmp_path / "r.hvlog"), "--policy", "best,buddy",
                               "--json"], capsys)[1])
    assert [d["n_malloc"] for d in data] == [3, 3]


def test_a_scenario_that_fails_under_one_policy_is_noted(tmp_path: Path) -> None:
    f = tmp_path / "s.hv"
    # buddy rounds each request up to 4 KiB: the third does not fit in 8 KiB
    f.write_text("heap size=4K max_size=8K\na = malloc 2100\nb = malloc 2100\nexpect NULL\n"
                 "c = malloc 2100\n")
    outs = {o.policy: o for o in compare.compare(str(f), ["first", "buddy"], picture=False)}
    assert outs["buddy"].note == ""
    assert "stopped at line 5: expected NULL" in outs["first"].note


def test_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli(["compare", str(FRAG), "--policy", "first,fastest"])
    assert "unknown policy 'fastest'" in capsys.readouterr().err
    bad = tmp_path / "bad.rep"
    bad.write_text("1\n1\n1\n1\nx 0 3\n")
    rc, _, err = cli_run(["compare", str(bad)], capsys)
    assert rc == 2 and "line 5" in err and "Traceback" not in err
    rc, _, err = cli_run(["compare", str(tmp_path / "none.hv")], capsys)
    assert rc == 2 and "no such file" in err
    assert compare.parse_policies("all") == list(heapviz.heap.POLICIES)
