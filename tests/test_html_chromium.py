"""The notebook's HTML view in a real browser (headless Chromium): the script draws the
embedded scenes, the timeline slider moves the picture, hovering shows a block's record, the
SVG is the PNG's picture, and views still work in a notebook exported to static HTML."""

from __future__ import annotations

import html as _html
import io
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("heapviz._viz", reason="renderer not built (SDL2, SDL2_ttf or SDL2_image)")
from PIL import Image

import heapviz
from heapviz import display, render

pytestmark = pytest.mark.chromium
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("needs Chromium (apt-get install chromium)", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD, FREE, JUST_FREED = (0x00, 0x72, 0xB2), (0xD8, 0xDE, 0xE9), (0xE6, 0x9F, 0x00)
STAGE_TOP = 80  # px: below the title, the controls and the description line


def _chromium(tmp: Path, url: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", "--disable-extensions", f"--user-data-dir={tmp / 'profile'}",
           "--virtual-time-budget=3000", *args, url]
    return subprocess.run(cmd, capture_output=True, timeout=90, check=False)


@pytest.fixture
def browser(tmp_path: Path) -> dict[str, Callable[..., Any]]:
    def shot(url: str, size: tuple[int, int] = (1000, 800)) -> Image.Image:
        out = tmp_path / f"shot{len(list(tmp_path.glob('shot*.png')))}.png"
        r = _chromium(tmp_path, url, f"--window-size={size[0]},{size[1]}",
                      f"--screenshot={out}")
        assert out.exists(), r.stderr.decode(errors="replace")[-2000:]
        return Image.open(out).convert("RGB")

    def dom(url: str) -> str:
        r = _chromium(tmp_path, url, "--dump-dom")
        assert r.returncode == 0, r.stderr.decode(errors="replace")[-2000:]
        return r.stdout.decode()

    return {"shot": shot, "dom": dom}


KEEP: list[Any] = []  # the story's pointers stay alive: no block leaks (no "lost" steps)


def story() -> heapviz.Heap:
    h = heapviz.Heap()
    p = h.malloc(24)
    q = h.malloc(100)
    r = h.malloc(300)
    h.free(r)
    KEEP.extend([h.realloc(p, 200), q])
    return h


def page(tmp_path: Path, fragment: str, name: str = "view.html", extra: str = "") -> str:
    path = tmp_path / name
    path.write_text(display.page(fragment + extra), encoding="utf-8")
    return path.as_uri()


def count(img: Image.Image, rgb: tuple[int, int, int], box: tuple[int, int, int, int]) -> int:
    region = img.crop(box)
    return sum(n for n, c in region.getcolors(1 << 20) or [] if c == rgb)


def view_data(fragment: str) -> dict[str, Any]:
    m = re.search(r'class="hv-data">(.*?)</script>', fragment, re.S)
    assert m
    return dict(json.loads(m.group(1).replace("<\\/", "</")))


# --- the slider ----------------------------------------------------------------------------------
def test_slider_positions_change_the_picture(tmp_path: Path, browser: Any) -> None:
    h = story()
    fragment = display.html(h)
    d = view_data(fragment)
    url = page(tmp_path, fragment)
    box = (0, STAGE_TOP, 1000, STAGE_TOP + d["h"] - 20)
    start = browser["shot"](url + "#hv=0", (1000, STAGE_TOP + d["h"] + 40))
    end = browser["shot"](url + "#hv=-1", (1000, STAGE_TOP + d["h"] + 40))
    assert start.crop(box).tobytes() != end.crop(box).tobytes()
    # at the start nothing is allocated: free grey, no payload blue; at the end both
    assert count(start, PAYLOAD, box) == 0 and count(start, FREE, box) > 5000
    assert count(end, PAYLOAD, box) > 1000 and count(end, FREE, box) > 5000
    assert count(end, JUST_FREED, box) > 100  # the realloc freed the old block


def test_slider_input_event_moves_the_view(tmp_path: Path, browser: Any) -> None:
    """A script sets the slider's value and dispatches "input", as a user's drag does."""
    h = story()
    fragment = display.html(h)
    d = view_data(fragment)
    drag = ("<script>setTimeout(function(){var s=document.querySelector('.hv-slider');"
            "s.value=2;s.dispatchEvent(new Event('input'));},50);</script>")
    url = page(tmp_path, fragment, extra=drag)
    out = browser["dom"](url)
    assert 'data-frame="2"' in out and 'data-step="2"' in out
    desc = re.search(r'<div class="hv-desc[^"]*">(.*?)</div>', out, re.S)
    assert desc and _html.unescape(desc.group(1)).startswith(d["frames"][2]["d"])
    assert "step 2 / 5" in out
    # the dragged view and the view opened at that position draw the same pixels
    size = (1000, STAGE_TOP + d["h"] + 40)
    box = (0, STAGE_TOP, 1000, STAGE_TOP + d["h"] - 20)
    a = browser["shot"](url, size)
    b = browser["shot"](page(tmp_path, fragment, "plain.html") + "#hv=2", size)
    assert a.crop(box).tobytes() == b.crop(box).tobytes()


def test_hover_shows_the_block_record(tmp_path: Path, browser: Any) -> None:
    h = story()
    url = page(tmp_path, display.html(h))
    out = browser["dom"](url + "#hv=2&hv-hover=0x1002c")  # after malloc(100)
    tip = re.search(r'<div class="hv-tip"([^>]*)>(.*?)</div>', out, re.S)
    assert tip and "hidden" not in tip.group(1)
    text = _html.unescape(re.sub(r"<[^>]+>", " ", tip.group(2)))
    assert "block 0x1002c" in text and "allocated" in text
    assert "requested 100 B" in text and "size 112 B" in text
    assert "header 0x00000073" in text and "prev allocated 1" in text
    assert "alloc'd at test_html_chromium.py:" in text
    # the same block at the end: free (coalesced away?) or reused, but never stale
    out_end = browser["dom"](url + "#hv=-1&hv-hover=0x1002c")
    tip_end = re.search(r'<div class="hv-tip"[^>]*>(.*?)</div>', out_end, re.S)
    assert tip_end and "block 0x1002c" in tip_end.group(1)


# --- the SVG is the PNG's picture -----------------------------------------------------------------
def test_svg_draws_like_the_png(tmp_path: Path, browser: Any) -> None:
    h = story()
    sc = render.scene(h, width=display.WIDTH, vars=False)
    svg_path = tmp_path / "heap.svg"
    svg_path.write_text(display.scene_svg(sc), encoding="utf-8")
    png = Image.open(io.BytesIO(render.render_png(h, width=display.WIDTH, vars=False)))
    png = png.convert("RGB")
    shot = browser["shot"](svg_path.as_uri(), (sc["width"], sc["height"]))
    assert shot.size == png.size
    checked = 0
    for it in sc["items"]:
        if it["kind"] != "rect" or it["w"] < 6 or it["h"] < 6:
            continue
        x, y = it["x"] + it["w"] // 2, it["y"] + it["h"] // 2
        # sample where no text, hatch or arrow of the scene lies (box outlines: their edges)
        if any(o is not it and o["kind"] in ("text", "hatch", "arrow")
               and o["x"] - 2 <= x <= o["x"] + o["w"] + 2
               and o["y"] - 2 <= y <= o["y"] + o["h"] + 2 for o in sc["items"]):
            continue
        if any(o["kind"] == "box" and (abs(x - o["x"]) < 3 or abs(x - o["x"] - o["w"]) < 3
                                       or abs(y - o["y"]) < 3 or abs(y - o["y"] - o["h"]) < 3)
               for o in sc["items"]):
            continue
        assert shot.getpixel((x, y)) == png.getpixel((x, y)), it
        checked += 1
    assert checked >= 5
    # and overall: most pixels agree (text anti-aliasing differs between the two)
    a, b = shot.tobytes(), png.tobytes()
    same = sum(1 for i in range(0, len(a), 3) if a[i:i + 3] == b[i:i + 3])
    assert same / (png.size[0] * png.size[1]) > 0.9


# --- exported notebooks ---------------------------------------------------------------------------
def export_html(nb: Any) -> str:
    """A static HTML export of an executed notebook, as nbconvert's basic template lays it
    out: markdown as text, code in <pre>, each output's richest format inline."""
    parts = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(f'<div class="md"><pre>{_html.escape(cell.source)}</pre></div>')
            continue
        parts.append(f'<div class="in"><pre>{_html.escape(cell.source)}</pre></div>')
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/html" in data:
                parts.append(f'<div class="out">{data["text/html"]}</div>')
            elif "image/png" in data:
                parts.append(f'<div class="out"><img src="data:image/png;base64,'
                             f'{data["image/png"]}"></div>')
            elif out.get("output_type") == "stream":
                parts.append(f'<pre class="out">{_html.escape(out["text"])}</pre>')
            elif out.get("output_type") == "error":
                parts.append(f'<pre class="err">{_html.escape(out["ename"])}: '
                             f'{_html.escape(out["evalue"])}</pre>')
    return display.page("".join(parts), "exported notebook")


def test_views_work_in_an_exported_notebook(tmp_path: Path, browser: Any) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in (
        "import heapviz\nh = heapviz.Heap()\np = h.malloc(40)\nq = h.malloc(80)\nh",
        "h.free(p)\nh.snapshot()",
        "snap = h.snapshot()\ndisplay(snap)\ndisplay(snap)  # the same output twice",
        "s = heapviz.Heap()\na = s.malloc(10)\na[10] = 1",
    )]
    nb.cells[3].metadata["tags"] = ["raises-exception"]
    nbclient.NotebookClient(nb, timeout=60, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    path = tmp_path / "exported.html"
    path.write_text(export_html(nb), encoding="utf-8")
    out = browser["dom"](path.as_uri() + "#hv=1")
    views = re.findall(r'<div class="heapviz-view"[^>]*>', out)
    assert len(views) == 5, "the heap, three snapshots (two alike), the heap at the error"
    for v in views:  # every view's script ran, independently, and took the hash
        assert 'data-ready="1"' in v and 'data-frame="1"' in v
    assert "Invalid write of size 1" in out
    assert "the timeline needs JavaScript" not in out
