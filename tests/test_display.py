"""heapviz.display: the notebook views (PNG, SVG, HTML timeline), past moments from the one
replay, snapshots, errors shown with their heap, step hooks and the live widget — without a browser
(tests/test_html_chromium.py opens the HTML) and without a kernel (tests/test_notebooks.py)."""

from __future__ import annotations

import base64
import io
import json
import random
import re
import sys
import time
import xml.etree.ElementTree as ET
from typing import Any

import pytest

pytest.importorskip("heapviz._viz", reason="renderer not built (SDL2, SDL2_ttf or SDL2_image)")
from PIL import Image

import heapviz
from heapviz import display, history, render

SVG_NS = "{http://www.w3.org/2000/svg}"
PAYLOAD = "#0072B2"


def story() -> tuple[heapviz.Heap, list[Any]]:
    h = heapviz.Heap()
    p = h.malloc(24)
    q = h.malloc(100)
    r = h.malloc(300)
    h.free(q)
    s = h.realloc(p, 200)
    return h, [p, q, r, s]


def view_data(html: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" class="hv-data">(.*?)</script>', html, re.S)
    assert m, "the HTML view embeds its data"
    return dict(json.loads(m.group(1).replace("<\\/", "</")))


# --- the bundle ---
def test_bundle_has_png_svg_html_text() -> None:
    h, _ = story()
    b = h._repr_mimebundle_()
    assert set(b) == {"text/plain", "image/png", "image/svg+xml", "text/html"}
    assert b["text/plain"].startswith("<heapviz.Heap")
    img = Image.open(io.BytesIO(base64.b64decode(b["image/png"])))
    img.load()
    assert img.size[0] == display.WIDTH and img.size[1] > 100
    root = ET.fromstring(b["image/svg+xml"])
    assert root.tag == SVG_NS + "svg"
    assert int(root.get("width", 0)) == display.WIDTH
    fills = {e.get("fill") for e in root.iter(SVG_NS + "rect")}
    assert PAYLOAD in fills and "#D8DEE9" in fills  # payload blue, free grey
    assert "<script" in b["text/html"] and "hv-slider" in b["text/html"]


def test_include_exclude() -> None:
    h, _ = story()
    assert set(h._repr_mimebundle_(include={"image/png"})) == {"image/png"}
    assert "text/html" not in h._repr_mimebundle_(exclude={"text/html"})


def test_svg_is_the_scene() -> None:
    """Every rect of the renderer's scene is a rect of the SVG, at the same place and colour."""
    h, _ = story()
    sc = render.scene(h, width=display.WIDTH, vars=False)
    svg = display.svg(h, vars=False)
    root = ET.fromstring(svg)
    got = {(e.get("x"), e.get("y"), e.get("width"), e.get("height"), e.get("fill"))
           for e in root.iter(SVG_NS + "rect")}
    for it in sc["items"]:
        if it["kind"] == "rect":
            assert (str(it["x"]), str(it["y"]), str(it["w"]), str(it["h"]), it["color"]) in got
    texts = {"".join(e.itertext()).replace("\xa0", " ") for e in root.iter(SVG_NS + "text")}
    assert any("free list" in t for t in texts)


def test_png_matches_scene_colours() -> None:
    """The PNG is the same picture: the centre of each big scene rect has its colour."""
    h, _ = story()
    png = display.png(h, vars=False)
    img = Image.open(io.BytesIO(png)).convert("RGB")
    sc = render.scene(h, width=display.WIDTH, vars=False)
    checked = 0
    for it in sc["items"]:
        if it["kind"] == "rect" and it["w"] >= 8 and it["h"] >= 8 and it["role"] in (
                "payload", "free", "just-freed"):
            cx, cy = it["x"] + 2, it["y"] + it["h"] - 3
            want = tuple(int(it["color"][i:i + 2], 16) for i in (1, 3, 5))
            got = img.getpixel((cx, cy))
            # the uninitialized hatch may cross a payload pixel: allow its colour too
            if it["role"] == "payload" and got != want:
                continue
            assert got == want, (it, got)
            checked += 1
    assert checked >= 3


def test_html_carries_the_timeline() -> None:
    h, _ = story()
    html = display.html(h)
    d = view_data(html)
    n = len(display.steps(h))
    assert d["n"] == n == 5
    assert [f["k"] for f in d["frames"]] == list(range(n + 1))  # short: every moment
    assert d["frames"][-1]["d"].startswith("realloc(0x10010, 200)")
    assert d["frames"][1]["d"] == "malloc(24) → 0x10010"
    assert d["frames"][0]["d"].startswith("the start")
    assert 'type="range"' in html and f'max="{n}"' in html
    assert [c for c, _ in d["legend"]] == [c for _, c, _ in render.legend()]
    # self-contained: no external resources
    assert not re.search(r'(src|href)="(https?:)?//', html)
    # the no-JavaScript fallback is the picture of now
    assert "<svg" in html.split('class="hv-stage">', 1)[1][:200]


def test_html_hover_records() -> None:
    h, ptrs = story()
    d = view_data(display.html(h))
    recs = d["recs"]
    last = d["frames"][-1]
    by_addr = {d["addrs"][a]: recs[r] for a, r in last["b"]}
    r = by_addr[f"0x{h.block_of(ptrs[2]).address:x}"]
    assert r["s"] == "allocated" and r["r"] == 300 and r["z"] == 320
    assert r["h"] == [320, 1, 0] and r["f"] == 1  # its left neighbour (q's) was freed
    assert "alloc'd" not in r["as"] and "(op 3)" in r["as"]
    # at step 2 (after malloc(100)), the 100-byte block is allocated, with its site
    f2 = d["frames"][2]
    recs2 = {d["addrs"][a]: recs[r] for a, r in f2["b"]}
    q = recs2["0x1002c"]
    assert q["s"] == "allocated" and q["r"] == 100 and q["z"] == 112 and q["u"] == 104
    assert q["as"].startswith("test_display.py:")
    # after free(q) (step 4) it is free with a free site
    f4 = d["frames"][4]
    q4 = {d["addrs"][a]: recs[r] for a, r in f4["b"]}["0x1002c"]
    assert q4["s"] == "free" and "fs" in q4 and "r" not in q4


def test_variables_named_in_the_last_frame() -> None:
    h, ptrs = story()
    p = ptrs[0]  # noqa: F841 - the name the view should find
    d = view_data(display.html(h))
    assert "p → 0x10010" in d["vars"]


# --- past moments: the one replay (heapviz.history) -------------------------------------
CONFIGS = [dict(policy=p, order=o, coalesce=c)
           for p in ("first", "next", "best", "worst")
           for o, c in (("address", "immediate"), ("lifo", "deferred"), ("size", "none"),
                        ("fifo", "immediate"))]
CONFIGS += [dict(policy="segregated"), dict(policy="buddy"), dict(policy="first", align=8,
                                                                   footer=False)]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(str(v) for v in c.values()))
def test_past_moments_are_the_heap_of_then(cfg: dict[str, Any]) -> None:
    """The replay's blocks (every field: header word, seq, sites…) at every step equal the
    heap's own at that step, so past moments hover exactly as the present does."""
    rnd = random.Random(7)
    h = heapviz.Heap(mmap_threshold=8192, **cfg)
    ptrs, then = [], []
    for _ in range(250):
        x = rnd.random()
        if x < 0.45 or not ptrs:
            p = h.malloc(rnd.choice([1, 8, 24, 100, 300, 1000, 5000, 10000]))
            if p:
                ptrs.append(p)
        elif x < 0.55:
            j = rnd.randrange(len(ptrs))
            p = h.realloc(ptrs[j], rnd.choice([4, 50, 400, 3000, 9000]))
            if p:
                ptrs[j] = p
        elif x < 0.6:
            p = h.calloc(rnd.randint(1, 10), 12)
            if p:
                ptrs.append(p)
        else:
            h.free(ptrs.pop(rnd.randrange(len(ptrs))))
        then.append((h.stats().ops, h.blocks(), h.free_list()))
    past = history.History(h)
    for step, blocks, free in then:
        moment = past.at(step)
        assert moment.blocks() == blocks, f"step {step}"
        assert moment.free_list() == free, f"step {step}"


def test_past_moments_with_sbrk_mmap_frames_and_errors() -> None:
    h = heapviz.Heap(checks="report")
    seen = []
    p = h.malloc(8)
    p[0:4] = b"abcd"
    _ = p[6]  # uninitialized read, reported
    seen.append((h.stats().ops, h.blocks(), h._frames()))
    with h.frame("main") as f:
        f.alloc(16)
        seen.append((h.stats().ops, h.blocks(), h._frames()))
    m = h.mmap(8192)
    h.sbrk(100)
    q = h.malloc(5000)  # grows the heap past the raw sbrk bytes
    seen.append((h.stats().ops, h.blocks(), h._frames()))
    h.free(q)
    h.munmap(m)
    seen.append((h.stats().ops, h.blocks(), h._frames()))
    past = history.History(h)
    for step, blocks, frames in seen:
        assert past.at(step).blocks() == blocks
        assert past.at(step).frames() == frames
    assert [e.kind for e in past.errors()] == ["error"]
    said = [past.step(k) for k in range(1, past.steps + 1)]
    assert [s.text for s in said if s.error] == ["✖ Use of uninitialised value of size 1"]
    assert said[0].text == "malloc(8) → 0x10010"
    assert "call main(): a stack frame is pushed" in [s.text for s in said]


# --- sampling, budgets, truncation ---
def test_long_history_is_sampled_and_says_so() -> None:
    h = heapviz.Heap(checks="report")
    rnd = random.Random(1)
    ptrs: list[Any] = []
    for i in range(3000):
        if i == 1500:
            x = h.malloc(10)
            _ = x[3]  # an uninitialized read in the middle: its moment must be kept
            ptrs.append(x)
        if rnd.random() < 0.52 or not ptrs:
            ptrs.append(h.malloc(rnd.randint(1, 200)))
        else:
            h.free(ptrs.pop(rnd.randrange(len(ptrs))))
    t = time.perf_counter()
    html = display.html(h)
    took = time.perf_counter() - t
    d = view_data(html)
    ks = [f["k"] for f in d["frames"]]
    assert ks[0] == 0 and ks[-1] == d["n"] and len(ks) <= display.MAX_FRAMES
    assert ks == sorted(set(ks))
    assert any(f["e"] for f in d["frames"]), "the error's moment is kept"
    assert any("moments embedded" in n for n in d["notes"])
    assert len(html) < 1_200_000
    assert took < 5


def test_huge_heap_stays_bounded() -> None:
    h = heapviz.Heap()
    rnd = random.Random(2)
    ptrs = []
    for _ in range(20000):
        if rnd.random() < 0.6 or not ptrs:
            ptrs.append(h.malloc(rnd.randint(1, 64)))
        else:
            h.free(ptrs.pop(rnd.randrange(len(ptrs))))
    b = display.mimebundle(h)
    assert len(b["text/html"]) < 2_500_000
    assert len(b.get("image/svg+xml", "")) <= display.SVG_MAX


def test_truncated_history_shows_now_only() -> None:
    h = heapviz.Heap(history_limit=10)
    for _ in range(8):
        h.malloc(100)
    d = view_data(display.html(h))
    assert len(d["frames"]) == 1 and "truncated" in d["notes"][0]


def test_closed_heap_is_text_only() -> None:
    h = heapviz.Heap()
    h.close()
    assert set(display.mimebundle(h)) == {"text/plain"}


# --- snapshots ---
def test_snapshot_is_frozen(tmp_path: Any) -> None:
    h, _ = story()
    snap = h.snapshot()
    before = dict(snap._repr_mimebundle_())
    h.malloc(500)
    assert snap._repr_mimebundle_() == before
    assert view_data(snap.html)["n"] == 5
    Image.open(io.BytesIO(snap.png)).load()
    for ext in ("png", "svg", "html"):
        snap.save(str(tmp_path / f"s.{ext}"))
        assert (tmp_path / f"s.{ext}").stat().st_size > 1000
    assert "<!doctype html>" in (tmp_path / "s.html").read_text()
    with pytest.raises(ValueError):
        snap.save(str(tmp_path / "s.txt"))


# --- errors ---
def test_heap_of_error_and_error_view() -> None:
    h = heapviz.Heap()
    other = heapviz.Heap()
    p = h.malloc(10)
    with pytest.raises(heapviz.BufferOverflow) as ei:
        p[10] = 1
    assert display.heap_of_error(ei.value, {"h": h, "other": other}) is h
    assert display.heap_of_error(ei.value, {}) is h  # found through the heap's own records
    snap = display.Snapshot(h, error=ei.value)
    d = view_data(snap.html)
    assert d["err"].startswith("Invalid write of size 1")
    assert d["frames"][-1]["e"] == 1 and d["frames"][-1]["d"].startswith("✖ Invalid write")
    # NULL belongs to no heap: the heap that recorded the error, else the namespace's
    with pytest.raises(heapviz.SegmentationFault) as ei2:
        heapviz.NULL[0] = 1
    assert display.heap_of_error(ei2.value, {"h": h}) in (h, other)
    assert display.heap_of_error(heapviz.SegmentationFault("made up"), {"h": h}) is h


class FakeShell:
    """What install() needs of IPython's shell."""

    def __init__(self, custom: tuple[type, ...] = ()) -> None:
        self.custom_exceptions = custom
        self.handler: Any = None

    def set_custom_exc(self, classes: tuple[type, ...], handler: Any) -> None:
        self.custom_exceptions, self.handler = classes, handler


def test_install_outside_ipython_is_a_no_op() -> None:
    assert "IPython" not in sys.modules or display.install() is True
    if "IPython" not in sys.modules:
        assert display.install() is False  # no shell: nothing installed
    shell = FakeShell()
    assert display.install(shell) is True
    assert shell.custom_exceptions == (heapviz.HeapError,) and callable(shell.handler)
    assert display.install(shell) is True  # idempotent
    theirs = FakeShell((KeyError,))
    assert display.install(theirs) is False and theirs.handler is None  # left alone


# --- step hooks ---
def test_step_hooks_chain_with_a_foreign_hook() -> None:
    h = heapviz.Heap()
    calls: list[str] = []

    def viewer() -> None:
        calls.append("viewer")

    def mine() -> None:  # None: call me after every operation
        calls.append("mine")

    h._set_step_hook(viewer)  # as the viewer's step mode does
    assert display.current_step_hook(h) is viewer
    display.add_step_hook(h, mine)
    h.malloc(8)
    assert calls == ["viewer", "mine"]
    # the viewer replaces the hook (step mode on again): ours is re-chained on the next check
    h._set_step_hook(viewer)
    display._ensure_hook(h)
    calls.clear()
    h.malloc(8)
    assert calls == ["viewer", "mine"]
    display.remove_step_hook(h, mine)
    assert display.current_step_hook(h) is viewer
    calls.clear()
    h.malloc(8)
    assert calls == ["viewer"]
    h._set_step_hook(None)
    assert display.current_step_hook(h) is None


# --- the live widget (no kernel: ipywidgets still builds its models) ---
def test_watch_follows_throttled_and_steps_back() -> None:
    pytest.importorskip("ipywidgets")
    h = heapviz.Heap()
    w = display.Watch(h, hz=10)
    assert w.refreshes == 1 and w.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    t = time.perf_counter()
    for _ in range(3000):
        h.free(h.malloc(32))
    took = time.perf_counter() - t
    assert w.refreshes <= 2 + took * 10 + 1, "at most ~10 refreshes a second"
    w.refresh(force=True)  # what the end of a cell does
    n = len(display.steps(h))
    assert w.slider.max == n and w.pos == n and w.following
    w.back.click()
    assert w.pos == n - 1 and not w.following and not w.live.value
    w.step.click()
    assert w.pos == n and w.following
    w.slider.value = 3
    assert w.pos == 3 and not w.following
    before = w.refreshes
    h.malloc(8)
    assert w.refreshes == before, "paused: later operations do not move the view"
    w.live.value = True
    assert w.following and w.pos == len(display.steps(h))
    w.stop()
    assert display.current_step_hook(h) is None
    h.malloc(8)  # no hook left: nothing breaks
    shown = w.image.value
    h.close()
    w.back.click()  # the heap is gone: the widget keeps its last picture, nothing raises
    w.live.value = False
    assert w.image.value == shown and not w.following


def test_watch_costs_little() -> None:
    """With a watch open, a tight loop pays for the hook call and ~10 renders a second."""
    pytest.importorskip("ipywidgets")
    h = heapviz.Heap(size=1 << 20)

    def loop() -> float:
        t = time.perf_counter()
        for _ in range(20000):
            h.free(h.malloc(64))
        return time.perf_counter() - t

    base = min(loop() for _ in range(2))
    w = display.Watch(h)
    watched = min(loop() for _ in range(2))
    w.stop()
    assert watched < base * 1.5 + 0.1, (base, watched)


# --- one wording of events, objects that outlive their heap ----------------------------
def test_one_wording_for_the_notebook_and_the_window() -> None:
    """A moved realloc reads "(moved)" in the notebook's step text and in the window's event
    log alike (viz/words.c words both)."""
    h, _ = story()
    past = history.History(h)
    text = past.step(past.steps).text
    assert text.startswith("realloc(0x10010, 200) → 0x") and text.endswith(" (moved)")
    log = past.now().log
    assert f"  {text}  " in log[-1], log[-1]
    assert not any(line.endswith(" moved") and "(moved)" not in line for line in log)
    d = view_data(display.html(h))
    assert d["frames"][-1]["d"] == text


def test_include_nothing_gives_nothing() -> None:
    h, _ = story()
    assert display._wanted(include=[], exclude=None) == []
    assert h._repr_mimebundle_(include=[]) == {}
    assert h.snapshot()._repr_mimebundle_(include=[]) == {}
    assert set(h._repr_mimebundle_(include=["text/plain"])) == {"text/plain"}


def test_what_outlives_its_heap_keeps_it_or_says_so() -> None:
    h, _ = story()
    past = history.History(h)
    snap = h.snapshot()
    del h  # the History keeps the heap alive
    assert past.at(2).blocks()[0].state == "allocated"
    past.heap.close()
    with pytest.raises(ValueError, match="closed"):
        past.at(1)
    with pytest.raises(ValueError, match="closed"):
        render.scene(past.heap, at=1)
    assert snap.png[:4] == b"\x89PNG"  # a snapshot holds its pictures, not the heap
