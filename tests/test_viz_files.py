"""`python -m heapviz view FILE` on every kind of file, and OSTEP runs as slides — headless.

The window itself is tested in tests/test_viz_live.py; here the command writes its final
picture (--png), which must be the picture of the heap the file leaves (heapviz.cli.view.load),
with a scenario's variables.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("heapviz._viz", reason="renderer not built (SDL2, SDL2_ttf or libpng)")
pytest.importorskip("PIL", reason="Pillow missing")
from PIL import Image

import heapviz
from heapviz import ostep, render, viewer
from heapviz.cli import view

PKG_ROOT = str(Path(os.path.abspath(heapviz.__file__)).parent.parent)

SCENARIO = """\
heap policy=first size=4K
p = malloc 100
q = malloc 40
r = malloc 8
free q
big = malloc 6000
"""

SCRIPT = """\
import heapviz
h = heapviz.Heap(policy="best")
keep = [h.malloc(16 * i) for i in range(1, 6)]
h.free(keep[2])
"""

TRACE = "0\n3\n5\n1\na 0 24\na 1 100\nf 0\na 2 8\nr 1 300\n"  # CS:APP header, then ops


def view_png(path: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "heapviz", "view", str(path), "--png", str(out), *extra],
        env=dict(os.environ, PYTHONPATH=PKG_ROOT),
        capture_output=True,
        text=True,
        timeout=60,
    )


def pixels(png: bytes | Path, bottom: int | None = None) -> bytes:
    data = png.read_bytes() if isinstance(png, Path) else png
    img = Image.open(io.BytesIO(data)).convert("RGB")
    if bottom is not None:
        img = img.crop((0, 0, img.width, bottom))
    return img.tobytes()


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    hv = tmp_path / "lesson.hv"
    hv.write_text(SCENARIO)
    py = tmp_path / "lesson.py"
    py.write_text(SCRIPT)
    rep = tmp_path / "short.rep"
    rep.write_text(TRACE)
    h, _ = view.load(str(hv))
    log = tmp_path / "lesson.hvlog"
    h.save(str(log))
    return {"hv": hv, "py": py, "rep": rep, "hvlog": log}


@pytest.mark.parametrize("kind", ["hv", "py", "rep", "hvlog"])
def test_view_writes_the_heap_the_file_leaves(kind: str, files: dict[str, Path]) -> None:
    path = files[kind]
    out = path.with_suffix(".png")
    r = view_png(path, out)
    assert r.returncode == 0, r.stderr
    h, names = view.load(str(path))
    want = render.render_png(h, width=1280, vars=names or False)
    # The event log names call sites, which differ between this process and the command's
    # (a Python script's or a replayed list's frames): compare everything above it.
    sc = render.scene(h, width=1280, vars=names or False)
    log_y = min(it["y"] for it in sc["items"] if it.get("text") == "events")
    assert pixels(out, log_y - 8) == pixels(want, log_y - 8)
    assert len(h.events) > 0, "the heap keeps its history (time travel in the window)"


def test_a_scenario_keeps_its_variables(files: dict[str, Path]) -> None:
    h, names = view.load(str(files["hv"]))
    assert set(names) == {"p", "q", "r", "big"}
    assert names["p"] == int(h.blocks()[0].payload)
    sc = render.scene(h, width=1280, vars=names)
    labels = {it["text"] for it in sc["items"] if it["kind"] == "text" and it["role"] == "var"}
    assert {"p", "r", "big"} <= labels


def test_a_recording_replays_to_the_same_heap(files: dict[str, Path]) -> None:
    a, _ = view.load(str(files["hv"]))
    b, _ = view.load(str(files["hvlog"]))
    assert [(x.address, x.size, x.state) for x in a.blocks()] == [
        (x.address, x.size, x.state) for x in b.blocks()
    ]


def test_heap_options_override_the_file(files: dict[str, Path]) -> None:
    h, _ = view.load(str(files["hv"]), policy="best")
    assert h.policy == "best"
    out = files["hv"].with_name("best.png")
    assert view_png(files["hv"], out, "--policy", "best").returncode == 0


def test_a_bad_file_is_a_clear_error(tmp_path: Path) -> None:
    r = view_png(tmp_path / "missing.hv", tmp_path / "x.png")
    assert r.returncode == 2
    assert "missing.hv" in r.stderr and "Traceback" not in r.stderr
    bad = tmp_path / "bad.hv"
    bad.write_text("heap policy=first\np = mallok 10\n")
    r = view_png(bad, tmp_path / "x.png")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr


def test_one_recording_format(files: dict[str, Path], tmp_path: Path) -> None:
    """The lossy JSON event list of old (viewer.save_events) is gone: a history is saved
    as a recording, which replays to the same heap, and a .json file is a clear error."""
    assert not hasattr(viewer, "save_events")
    a, _ = view.load(str(files["hv"]))
    b, _ = view.load(str(files["hvlog"]))
    assert a.blocks() == b.blocks() and a.free_list() == b.free_list()
    old = tmp_path / "events.json"
    old.write_text('{"heap": {"policy": "first"}, "ops": [["malloc", 100]]}')
    r = view_png(old, tmp_path / "x.png")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr


def test_ostep_states_are_valid_slides() -> None:
    """Every state play_ostep would show is one the renderer draws (the window converts
    them with the same code)."""
    opts = ostep.Options(num_ops=6, seed=3, coalesce=True)
    run = ostep.steps(opts)
    states = ostep.picture_states(run, opts)
    assert len(states) == len(run)
    round_trip = [viewer._tuples(st) for st in json.loads(json.dumps(states))]
    for st in round_trip:
        assert render.render_png(st, width=600, vars=st["vars"], chrome=True)


def test_play_ostep_without_a_display_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    opts = ostep.Options(num_ops=2, seed=1)
    run = ostep.steps(opts)
    with pytest.raises(viewer.NoDisplay, match="display"):
        viewer.play_ostep(run, ostep.picture_states(run, opts))
