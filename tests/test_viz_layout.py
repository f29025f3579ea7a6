"""The renderer on synthetic heaps: layout rules, the scene, golden pictures.

These need no allocator: a state is a dict of blocks, free lists and panels, so the layout is
tested on exactly the situations we choose (tiny blocks, leaks, an overflow, mmapped chunks).
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

viz = pytest.importorskip(
    "heapviz._viz", reason="renderer not built (SDL2, SDL2_ttf or libpng missing)"
)
pytest.importorskip("PIL", reason="Pillow missing")
from PIL import Image  # noqa: E402

GOLDEN = Path(__file__).parent / "golden"
REGOLD = os.environ.get("HEAPVIZ_REGOLD") == "1"
BASE = 0x10000
COLORS = {name: color for name, color, _ in viz.legend()}


def synthetic(n_alloc: int = 0) -> dict[str, Any]:
    """A small first-fit heap: allocated, free, just freed, leaked, an overflow, mmap, stack."""
    blocks: list[dict[str, Any]] = []
    a = BASE + 8
    layout = [
        (32, "allocated", 12, 0),
        (48, "free", 0, 0),
        (128, "allocated", 100, 0),
        (64, "free", 0, 1),  # just freed
        (32, "allocated", 16, 2),  # leaked
        (1024, "free", 0, 0),
        (512, "allocated", 500, 0),
    ]
    layout += [(32, "allocated", 20, 0)] * n_alloc
    for size, state, req, marks in layout:
        blocks.append({"addr": a, "size": size, "state": state, "requested": req, "marks": marks})
        a += size
    brk = a
    blocks.append({"addr": 0x7F0000000000, "size": 135168, "state": "mmapped", "requested": 131072})
    blocks.append({"addr": 0x7FF000000000, "size": 16, "state": "stack"})
    return {
        "policy": "first",
        "order": "address",
        "coalesce": "immediate",
        "heap_base": BASE,
        "brk": brk,
        "blocks": blocks,
        "free_lists": [[blocks[1]["addr"], blocks[3]["addr"], blocks[5]["addr"]]],
        "uninit": [(blocks[2]["addr"] + 8 + 40, 60)],
        "vars": {
            "p": blocks[0]["addr"] + 8,
            "data": blocks[2]["addr"] + 8,
            "old": blocks[3]["addr"] + 8,
        },
        "stats": {
            "heap_size": brk - BASE,
            "in_use": 704,
            "free_bytes": 1136,
            "largest_free": 1024,
            "utilization": 0.41,
            "frag_external": 0.1,
        },
        "log": [
            "     6  free(0x100f0)  lesson.py:9",
            "     7  malloc(500) → 0x10598  lesson.py:10",
        ],
        "error": "Invalid write of size 4\n   at lesson.py:12\n Address 0x100b4 is 0 bytes "
        "after a block of size 100 alloc'd\n   at lesson.py:4",
        "error_addr": blocks[2]["addr"] + 8 + 100,
        "error_size": 4,
        "rover": blocks[5]["addr"],
        "frames": [("main", 0x7FF000000000, 0x7FF000000040)],
    }


def image(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def hexcolor(rgb: tuple[int, int, int]) -> str:
    return "#{:02X}{:02X}{:02X}".format(*rgb)


def items(scene: dict[str, Any], **match: Any) -> list[dict[str, Any]]:
    return [it for it in scene["items"] if all(it.get(k) == v for k, v in match.items())]


# --- the scene ------------------------------------------------------------------------------
def test_blocks_in_address_order_with_textbook_parts() -> None:
    sc = viz.scene(synthetic(), width=1100)
    firsts: dict[int, dict[str, Any]] = {}
    for it in items(sc, kind="rect"):
        if it["addr"] and it["role"] in ("meta", "payload", "free", "just-freed", "leaked"):
            firsts.setdefault(it["addr"], it)
    heap = [a for a in firsts if a < 0x7F0000000000]
    xs = [(firsts[a]["y"], firsts[a]["x"]) for a in heap]
    assert heap == sorted(heap) and xs == sorted(xs), "address order = reading order"
    first = [it for it in items(sc, kind="rect", addr=BASE + 8)]
    roles = [it["role"] for it in first]
    assert roles == ["meta", "payload", "padding", "meta"], "header, payload, padding, footer"
    assert [it["w"] for it in first] == [8, 12, 4, 8], "to scale: 1 px per byte at this size"


def test_states_have_their_legend_colours() -> None:
    sc = viz.scene(synthetic(), width=1100)
    by_role = {it["role"]: it["color"] for it in items(sc, kind="rect")}
    for role in ("payload", "meta", "free", "just-freed", "leaked", "padding", "mmap", "stack"):
        assert by_role[role] == COLORS[role], role
    assert items(sc, kind="hatch", role="uninit"), "uninitialized bytes are hatched"
    assert items(sc, kind="box", role="error", style="thick"), "the error's block is outlined"


def test_free_list_arrows_in_list_order_with_head() -> None:
    d = synthetic()
    sc = viz.scene(d, width=1100)
    arrows = items(sc, kind="arrow", role="link")
    assert [a["addr"] for a in arrows] == d["free_lists"][0][:-1]
    assert items(sc, kind="text", role="link", text="head")
    texts = [it["text"] for it in items(sc, kind="text")]
    assert any(
        t.startswith("head → 0x10028 (48) → 0x100d8 (64)") and t.endswith("NULL") for t in texts
    )
    assert "▼rover" in texts


def test_variables_point_into_the_heap_and_dangling_is_flagged() -> None:
    sc = viz.scene(synthetic(), width=1100)
    var_arrows = items(sc, kind="arrow", role="var")
    assert len(var_arrows) == 2
    dangling = items(sc, kind="arrow", role="error")
    assert len(dangling) == 1, "old points into a freed block"
    assert items(sc, kind="text", text="old", role="error")


def test_labels_only_where_there_is_room() -> None:
    sc = viz.scene(synthetic(), width=1100)
    texts = {it["text"] for it in items(sc, kind="text")}
    assert "0x10060" in texts and "100 B" in texts, "address and size of a roomy block"
    narrow = viz.scene(synthetic(), width=1100, zoom=0.05)
    assert "0x10060" not in {it["text"] for it in items(narrow, kind="text")}


def test_panels_banner_and_timeline() -> None:
    sc = viz.scene(synthetic(), width=1100, chrome=True)
    texts = [it["text"] for it in items(sc, kind="text")]
    assert any(t.startswith("✖ Invalid write of size 4") for t in texts)
    assert "stats" in texts and "events" in texts and "variables" in texts
    assert any(t.startswith("timeline") for t in texts)
    assert any(t.startswith("heapviz · first fit") for t in texts)


def test_fixed_height_scrolls_and_clips() -> None:
    big = synthetic(n_alloc=3000)
    full = viz.scene(big, width=1000)
    win = viz.scene(big, width=1000, height=600, chrome=True)
    assert full["height"] > 600 and win["height"] == 600
    y0, y1 = win["clip"]
    assert all(it["y"] + it["h"] > y0 and it["y"] < y1 for it in win["items"] if it.get("scroll"))
    assert len(win["items"]) < len(full["items"]), "rows out of sight are not laid out"
    scrolled = viz.scene(big, width=1000, height=600, chrome=True, scroll=2000)
    assert scrolled["items"] != win["items"]


def test_min_block_width_keeps_tiny_blocks_visible() -> None:
    blocks = [
        {"addr": BASE + 8, "size": 32, "state": "allocated", "requested": 8},
        {"addr": BASE + 40, "size": 60 << 20, "state": "free"},
    ]
    sc = viz.scene({"blocks": blocks}, width=1000)
    tiny = [it for it in items(sc, kind="rect") if it["addr"] == BASE + 8]
    assert sum(it["w"] for it in tiny) >= 8, "a 32-byte block beside 60 MiB stays visible"
    assert items(sc, kind="rect", role="payload")


def test_hit_test_finds_blocks() -> None:
    """hv_viz_hit (the window's click) finds every drawn block at its pixels, and nothing
    off the blocks; the block it finds is the one whose record the window then shows."""
    d = synthetic()
    sc = viz.scene(d, width=1100)
    drawn = {}
    for it in items(sc, kind="rect"):
        if it["addr"] and it["w"] >= 3 and it["h"] >= 3 and it["role"] in (
                "payload", "free", "just-freed", "leaked", "padding"):
            drawn.setdefault(it["addr"], it)
    assert len(drawn) >= 5
    for addr, it in drawn.items():
        x, y = it["x"] + it["w"] // 2, it["y"] + it["h"] // 2
        assert viz.hit(d, x, y, width=1100) == addr, f"block {addr:#x} at ({x}, {y})"
    assert viz.hit(d, 1, 1, width=1100) == 0  # the title corner: no block
    chosen = d["blocks"][2]["addr"]
    it = drawn[chosen]
    hit = viz.hit(d, it["x"] + 1, it["y"] + 1, width=1100)
    sc = viz.scene(d, width=1100, selected=hit)
    texts = [it["text"] for it in items(sc, kind="text")]
    assert any(t.startswith(f"block {chosen:#x} allocated") for t in texts), "its record"
    assert any(t.startswith("requested 100") for t in texts)


def test_bad_options_raise() -> None:
    with pytest.raises(ValueError):
        viz.render(synthetic(), width=0)
    with pytest.raises(ValueError):
        viz.render(synthetic(), zoom=-1)
    with pytest.raises(TypeError):
        viz.render(42)
    with pytest.raises(ValueError):
        viz.render({"policy": "nope"})


# --- pixels -----------------------------------------------------------------------------------
def _fingerprint() -> str:
    """What the pixels depend on: SDL, SDL_ttf and the font (not the PNG encoder)."""
    v = viz.versions()
    return json.dumps({k: v[k] for k in ("sdl", "ttf", "font")}, sort_keys=True)


@pytest.mark.parametrize(
    "name,opts",
    [("synthetic", {}), ("synthetic_window", {"height": 640, "chrome": True, "help": True})],
)
def test_golden_png(name: str, opts: dict[str, Any]) -> None:
    png = viz.render(synthetic(), width=1100, **opts)
    img = image(png)
    path, meta = GOLDEN / f"{name}.png", GOLDEN / f"{name}.json"
    if REGOLD or not path.exists():
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(png)
        meta.write_text(_fingerprint() + "\n")
        if not REGOLD:
            pytest.skip(f"wrote the golden image {path}")
    gold = Image.open(path).convert("RGB")
    assert gold.size == img.size
    if meta.exists() and meta.read_text().strip() == _fingerprint():
        # Same SDL, SDL_ttf and font: the pixels must be identical.
        assert gold.tobytes() == img.tobytes(), f"differs from {path} (HEAPVIZ_REGOLD=1)"
    else:
        # Other library versions may hint glyphs differently: compare the non-text pixels.
        sc = viz.scene(synthetic(), width=1100, **opts)
        for it in items(sc, kind="rect"):
            if it["w"] >= 3 and it["h"] >= 3:
                c = (it["x"] + it["w"] // 2, it["y"] + 1)
                assert gold.getpixel(c) == img.getpixel(c)


def test_pixels_follow_the_legend() -> None:
    d = synthetic()
    img = image(viz.render(d, width=1100))
    sc = viz.scene(d, width=1100)
    for role in ("payload", "free", "leaked", "just-freed", "meta", "mmap"):
        it = items(sc, kind="rect", role=role)[0]
        assert (
            hexcolor(img.getpixel((it["x"] + it["w"] // 2, it["y"] + it["h"] - 2)))
            == (COLORS[role])
        ), role


def test_render_is_deterministic_and_raw_pixels_match_png() -> None:
    d = synthetic(n_alloc=50)
    a, b = viz.render(d, width=900), viz.render(d, width=900)
    assert a == b
    w, h, raw = viz.pixels(d, width=900)
    assert Image.frombuffer("RGB", (w, h), raw, "raw", "BGRX", 0, 1).tobytes() == (
        image(a).tobytes()
    )
