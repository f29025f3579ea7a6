"""Make the README's screenshots: docs/screenshots/window.png and notebook.png.

    xvfb-run -a .venv/bin/python docs/screenshots/make_screenshots.py

window.png: heapviz's SDL window (h.show()) on a real X display, grabbed with ImageMagick's
`import`.  notebook.png: an executed notebook exported to static HTML (outputs inline, as
nbconvert lays them out), opened in headless Chromium with the mouse over a block.  Both are
shrunk and reduced to a palette so that they stay small.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

import heapviz  # noqa: E402
from heapviz import display  # noqa: E402


def small(img: Image.Image, path: Path, width: int) -> None:
    if img.width > width:
        img = img.resize((width, round(img.height * width / img.width)), Image.LANCZOS)
    img.convert("RGB").quantize(colors=96, dither=Image.Dither.NONE).save(path, optimize=True)
    print(f"{path.relative_to(ROOT)}: {img.size[0]}x{img.size[1]}, {path.stat().st_size} B")


def window_shot(out: Path) -> None:
    h = heapviz.Heap(policy="best")
    names = h.strdup("ada"), h.strdup("grace"), h.strdup("barbara")
    table = h.calloc(8, heapviz.sizeof("int*")).cast("int*")
    for i in range(len(names)):
        table[i] = names[i].cast("int")
    scratch = h.malloc(300)
    h.free(names[1])
    big = h.realloc(scratch, 900)
    v = h.show()
    v.ready.wait(10)
    time.sleep(1.5)
    wid = subprocess.run(["xdotool", "search", "--sync", "--class", "heapviz"],
                         capture_output=True, text=True, timeout=20).stdout.split()
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "window.png"
        subprocess.run(["import", "-window", wid[0] if wid else "root", str(raw)], check=True,
                       timeout=30)
        small(Image.open(raw), out, 1000)
    v.close()
    del table, big


def notebook_shot(out: Path) -> None:
    import nbclient
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("## Splitting and coalescing\nFree two neighbours and "
                                      "they merge into one free block."),
        nbformat.v4.new_code_cell("import heapviz\nh = heapviz.Heap()\n"
                                  "a, b, c = h.malloc(100), h.malloc(200), h.malloc(50)\n"
                                  "h.free(a)\nh.free(b)\nh"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        nbclient.NotebookClient(nb, timeout=60, kernel_name="python3",
                                resources={"metadata": {"path": tmp}}).execute()
        parts = []
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "markdown":
                title, _, text = cell.source.partition("\n")
                parts.append(f"<h2>{html.escape(title[3:])}</h2><p>{html.escape(text)}</p>")
                continue
            parts.append(f'<div class="in"><span>In [{i}]:</span><pre>'
                         f"{html.escape(cell.source)}</pre></div>")
            for o in cell.outputs:
                if "text/html" in o.get("data", {}):
                    parts.append(f'<div class="out">{o.data["text/html"]}</div>')
        style = ("<style>body{font-family:sans-serif;margin:16px 24px;max-width:960px}"
                 ".in{display:flex;gap:8px;background:#f5f5f5;border:1px solid #e0e0e0;"
                 "padding:4px 8px}.in span{color:#303f9f;font-family:monospace}"
                 ".in pre{margin:0}.out{margin:6px 0 0 56px}</style>")
        page = Path(tmp) / "notebook.html"
        page.write_text(display.page(style + "".join(parts), "notebook"), encoding="utf-8")
        shot = Path(tmp) / "shot.png"
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        assert chromium, "needs chromium"
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", f"--user-data-dir={tmp}/profile",
                        "--window-size=1010,860", "--virtual-time-budget=3000",
                        f"--screenshot={shot}", page.as_uri() + "#hv=-1&hv-hover=0x1014c"],
                       check=True, capture_output=True, timeout=90)
        small(Image.open(shot), out, 1010)


if __name__ == "__main__":
    if "--notebook-only" not in sys.argv:
        window_shot(HERE / "window.png")
    notebook_shot(HERE / "notebook.png")
