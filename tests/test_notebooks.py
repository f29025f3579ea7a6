"""Execute every course notebook (notebooks/*.ipynb) on a kernel of this environment, fail on
any error, and check the rich outputs: PNGs decode, SVGs parse, HTML views carry the timeline,
a strict-mode error is followed by the picture of its heap, the live widget is displayed."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("heapviz._viz", reason="renderer not built (SDL2, SDL2_ttf or SDL2_image)")
nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
from PIL import Image  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KERNEL = "heapviz-tests"
EXPECTED = ["01_memory_api", "02_common_errors", "03_free_space", "04_ostep_homework",
            "05_malloc_lab"]


@pytest.fixture(scope="session")
def kernel_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A kernel spec that runs this interpreter (the project's .venv), found through
    JUPYTER_PATH, so the notebooks import the heapviz under test."""
    base = tmp_path_factory.mktemp("jupyter")
    spec = base / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "heapviz tests", "language": "python",
        "env": {"PYTHONPATH": str(ROOT), "HEAPVIZ_TRACES": os.environ.get(
            "HEAPVIZ_TRACES", str(ROOT.parent / "shared" / "traces"))},
    }))
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(base) + (os.pathsep + old if old else "")
    yield KERNEL
    if old is None:
        os.environ.pop("JUPYTER_PATH", None)
    else:
        os.environ["JUPYTER_PATH"] = old


def test_the_course_is_there() -> None:
    assert [p.stem for p in NOTEBOOKS] == EXPECTED
    for p in NOTEBOOKS:
        nb = nbformat.read(p, as_version=4)
        nbformat.validate(nb)
        md = [c for c in nb.cells if c.cell_type == "markdown"]
        words = sum(len(c.source.split()) for c in md)
        assert len(md) >= 6 and words >= 500, f"{p.name}: lessons teach in prose, not just code"
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
            f"{p.name} is committed without outputs"


def _run(path: Path, kernel: str) -> Any:
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name=kernel, timeout=120, allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # CellExecutionError on any error outside a "raises-exception" cell
    return nb


def _outputs(nb: Any) -> Iterator[tuple[Any, Any]]:
    for cell in nb.cells:
        if cell.cell_type == "code":
            for out in cell.get("outputs", []):
                yield cell, out


def _check_reprs(nb: Any) -> dict[str, int]:
    seen = {"png": 0, "svg": 0, "html": 0}
    for _cell, out in _outputs(nb):
        data = out.get("data", {})
        if "image/png" in data:
            Image.open(io.BytesIO(base64.b64decode(data["image/png"]))).load()
            seen["png"] += 1
        if "image/svg+xml" in data:
            root = ET.fromstring(data["image/svg+xml"])
            assert root.tag.endswith("svg") and root.find(".//{*}rect") is not None
            seen["svg"] += 1
        html = data.get("text/html", "")
        if "heapviz-view" in html:
            m = re.search(r'class="hv-data">(.*?)</script>', html, re.S)
            assert m, "the view embeds its timeline"
            view = json.loads(m.group(1).replace("<\\/", "</"))
            assert view["frames"] and view["frames"][-1]["k"] == view["n"]
            assert 'type="range"' in html and "heapvizView(" in html
            seen["html"] += 1
    return seen


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path: Path, kernel_env: str) -> None:
    nb = _run(path, kernel_env)
    seen = _check_reprs(nb)
    assert seen["png"] >= 1
    if path.stem != "04_ostep_homework":  # 04 draws the simulator's states as PNGs only
        assert seen["svg"] >= 1 and seen["html"] >= 1, seen
    if path.stem == "01_memory_api":
        widgets = [o for _c, o in _outputs(nb)
                   if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
        assert widgets, "h.watch() displays a widget"
        assert nb.metadata.get("widgets"), "the widget state is saved with the notebook"
    if path.stem == "02_common_errors":
        tagged = [c for c in nb.cells if "raises-exception" in c.metadata.get("tags", [])]
        assert len(tagged) == 1
        kinds = [o.output_type for o in tagged[0].outputs]
        assert "error" in kinds, "the strict-mode cell raises"
        err = next(o for o in tagged[0].outputs if o.output_type == "error")
        assert err.ename == "BufferOverflow"
        pics = [o for o in tagged[0].outputs if o.output_type == "display_data"]
        assert kinds.index("error") < kinds.index("display_data"), "picture after traceback"
        html = pics[0].data["text/html"]
        assert "Invalid write of size 4" in html and "hv-err" in html
        # report mode: every error was reported on stderr and the notebook went on
        streams = "".join(o.get("text", "") for _c, o in _outputs(nb)
                          if o.output_type == "stream")
        for needle in ("Invalid write of size 1", "Use of uninitialised value",
                       "Invalid free()", "is on the stack"):
            assert needle in streams, needle
    if path.stem == "05_malloc_lab":
        text = "".join(o.get("text", "") for _c, o in _outputs(nb) if o.output_type == "stream")
        assert "segregated" in text and "glibc" in text


@pytest.mark.display
def test_show_from_a_kernel_opens_the_window_and_the_kernel_goes_on(
        kernel_env: str, display: str, tmp_path: Path) -> None:
    """h.show() in a notebook: the viewer process starts, follows, and the kernel keeps
    running cells; closing the window does not disturb the kernel."""
    old = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = display
    try:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(src) for src in (
            "import heapviz, time\nh = heapviz.Heap()\np = h.malloc(24)\nv = h.show()\n"
            "assert v.ready.wait(20), 'the viewer said ready'",
            "q = h.malloc(100)\ntime.sleep(0.5)\n"
            "assert v.process.poll() is None and not v.closed.is_set()\nprint('following')",
            "v.close()\nv.wait(10)\nr = h.malloc(8)\nprint('kernel goes on', hex(r))",
        )]
        nbclient.NotebookClient(nb, kernel_name=kernel_env, timeout=60,
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
        text = "".join(o.get("text", "") for _c, o in _outputs(nb))
        assert "following" in text and "kernel goes on 0x" in text
    finally:
        if old is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = old


def _first_cell_error(kernel: str, tmp_path: Path, prelude: str) -> list[str]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(prelude + "import heapviz\nh = heapviz.Heap()\n"
                                          "a = h.malloc(4)\na[4] = 1")]
    nb.cells[0].metadata["tags"] = ["raises-exception"]
    nbclient.NotebookClient(nb, kernel_name=kernel, timeout=60,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    return [o.output_type for o in nb.cells[0].outputs]


def test_error_in_a_cell_shows_its_heap_with_the_extension(kernel_env: str,
                                                           tmp_path: Path) -> None:
    kinds = _first_cell_error(kernel_env, tmp_path, "%load_ext heapviz.display\n")
    assert kinds == ["error", "display_data"]


def test_error_in_the_first_cell_shows_its_heap(kernel_env: str, tmp_path: Path) -> None:
    assert _first_cell_error(kernel_env, tmp_path, "") == ["error", "display_data"]
