"""Scenes as SVG: every item of heapviz.render.scene() written as SVG markup, pixel for pixel.

The notebook's image/svg+xml and the HTML timeline's fallback picture are this; the
timeline's script (display.js) writes the same markup for the moments it draws.

    >>> import heapviz
    >>> h = heapviz.Heap(); p = h.malloc(24)
    >>> svg(h, width=400).startswith("<svg")
    True
"""

from __future__ import annotations

import html as _html
import uuid
from collections.abc import Mapping
from typing import Any

from heapviz import render
from heapviz.ipython import user_vars

WIDTH = 900  # px: the scenes of the notebook views


def esc(s: str) -> str:
    return _html.escape(s, quote=True)


def _arrow_svg(x0: int, y0: int, x1: int, y1: int, bend: int, color: str) -> str:
    """A quadratic Bézier with a filled head, as viz/draw.c draws arrows."""
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0 - 2.0 * bend
    tx, ty = (x1 - cx, y1 - cy) if bend else (x1 - x0, y1 - y0)
    path = (f'<path d="M{x0} {y0}Q{cx:g} {cy:g} {x1} {y1}" fill="none" stroke="{color}" '
            f'stroke-width="2"/>')
    n = (tx * tx + ty * ty) ** 0.5
    if n < 1:
        return path
    tx, ty = tx / n, ty / n
    pts = [(x1, y1 + 1), (x1 - 8 * tx + 4 * ty, y1 - 8 * ty - 4 * tx + 1),
           (x1 - 8 * tx - 4 * ty, y1 - 8 * ty + 4 * tx + 1)]
    return path + '<polygon points="{}" fill="{}"/>'.format(
        " ".join(f"{x:.1f},{y:.1f}" for x, y in pts), color)


def _jagged(x: int, y: int, w: int, h: int) -> str:
    top = " ".join(f"{x + i},{y + (i % 6 if i % 6 < 3 else 6 - i % 6)}" for i in range(0, w + 1, 3))
    bot = " ".join(f"{x + i},{y + h - 1 - (i % 6 if i % 6 < 3 else 6 - i % 6)}"
                   for i in range(0, w + 1, 3))
    return f"M{top.replace(' ', 'L', 1)}M{bot.replace(' ', 'L', 1)}".replace(" ", "L")


def item_svg(it: Mapping[str, Any], clip_id: str = "") -> str:
    """One scene item as SVG (the JS renderer in display.js writes the same markup)."""
    k, c = it["kind"], it["color"]
    x, y, w, h = int(it["x"]), int(it["y"]), int(it["w"]), int(it["h"])
    addr = int(it.get("addr", 0))
    data = f' data-a="0x{addr:x}"' if addr else ""
    clip = f' clip-path="url(#{clip_id})"' if clip_id and it.get("scroll") else ""
    if k == "rect":
        return f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{c}"{data}{clip}/>'
    if k == "hatch":
        pid = "hv-hatch-" + c.lstrip("#")
        return (f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="url(#{pid})"{data}'
                f'{clip}/>')
    if k == "box":
        style = it.get("style", "solid")
        if style == "jagged":
            return (f'<path d="{_jagged(x, y, w, h)}" fill="none" stroke="{c}" '
                    f'stroke-width="2"{data}{clip}/>')
        sw, dash = (2, "") if style == "thick" else (1, ' stroke-dasharray="2 2"' if
                                                     style == "dotted" else "")
        o = sw / 2
        return (f'<rect x="{x + o:g}" y="{y + o:g}" width="{max(w - sw, 0)}" '
                f'height="{max(h - sw, 0)}" fill="none" stroke="{c}" stroke-width="{sw}"'
                f'{dash}{data}{clip}/>')
    if k == "line":
        return (f'<line x1="{x + 0.5}" y1="{y + 0.5}" x2="{x + w + 0.5}" y2="{y + h + 0.5}" '
                f'stroke="{c}"{clip}/>')
    if k == "arrow":
        body = _arrow_svg(x, y, x + w, y + h, int(it.get("bend", 0)), c)
        return f"<g{clip}>{body}</g>" if clip else body
    if k == "text":
        small = bool(it.get("small"))
        size = 11 if small else 14
        base = y + (10 if small else 13)
        bold = ' font-weight="bold"' if it.get("bold") else ""
        text = str(it.get("text", ""))
        fit = f' textLength="{w}" lengthAdjust="spacingAndGlyphs"' if w > 0 and text else ""
        return (f'<text x="{x}" y="{base}" font-size="{size}"{bold} fill="{c}"{fit}{clip}>'
                f"{esc(text).replace(' ', chr(0xA0))}</text>")
    return ""


_FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"


def scene_svg(sc: Mapping[str, Any], height: int | None = None, *, title: str = "") -> str:
    """A scene (render.scene) as a standalone SVG document, pixel for pixel its layout."""
    width, hh = int(sc["width"]), int(height or sc["height"])
    clip_id = "hv-clip-" + uuid.uuid4().hex[:8]
    y0, y1 = sc.get("clip", (0, hh))
    hatches = sorted({it["color"] for it in sc["items"] if it["kind"] == "hatch"})
    defs = [f'<clipPath id="{clip_id}"><rect x="0" y="{y0}" width="{width}" '
            f'height="{max(0, y1 - y0)}"/></clipPath>']
    for c in hatches:
        defs.append(
            f'<pattern id="hv-hatch-{c.lstrip("#")}" width="5" height="5" '
            f'patternUnits="userSpaceOnUse"><path d="M-1 1L1 -1M0 5L5 0M4 6L6 4" '
            f'stroke="{c}" stroke-width="1"/></pattern>')
    body = "".join(item_svg(it, clip_id) for it in sc["items"])
    t = f"<title>{esc(title)}</title>" if title else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{hh}" '
            f'viewBox="0 0 {width} {hh}" font-family="{_FONT}" xml:space="preserve" '
            f'style="white-space:pre">{t}'
            f'<defs>{"".join(defs)}</defs>'
            f'<rect width="{width}" height="{hh}" fill="{sc["background"]}"/>{body}</svg>')


def svg(h: Any, width: int = WIDTH, at: int | None = None, vars: Any = None) -> str:
    """The picture of `h` (now, or after `at` steps) as SVG, built from the renderer's
    scene."""
    if vars is None and at is None:
        vars = user_vars(h)
    sc = render.scene(h, width=width, at=at, vars=vars)
    return scene_svg(sc, title=f"heapviz: {policy_line(h)}")


def policy_line(h: Any) -> str:
    """"policy first · order address · coalesce immediate · align 16"."""
    return f"policy {h.policy} · order {h.order} · coalesce {h.coalesce} · align {h.align}"
