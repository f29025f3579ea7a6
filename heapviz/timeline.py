"""The notebook's interactive view: the heap's history as a self-contained HTML timeline.

The scenes of the recorded history (sampled when it is long, errors always kept) are
embedded as compact JSON — colours, strings, addresses and items shared by all moments —
with a small script (display.js) that draws them, a timeline slider to scrub them without a
running kernel (it still works in a notebook exported to HTML), and the record of the block
under the mouse (header fields, requested and allocated size, alloc/free sites).  Without
JavaScript (an untrusted notebook, GitHub) the picture of the last moment still shows.

Every moment comes from the one replay (heapviz.history) and is described in the one
wording of events (viz/words.c, through History.step).

    >>> import heapviz
    >>> h = heapviz.Heap(); p = h.malloc(24); h.free(p)
    >>> tl = timeline(h, width=400)
    >>> [f["d"] for f in tl.data["frames"]]
    ['the start: nothing allocated yet', 'malloc(24) → 0x10010', 'free(0x10010)']
"""

from __future__ import annotations

import base64
import bisect
import json
import os
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from heapviz import render
from heapviz.history import MARKS, History, Moment
from heapviz.ipython import site_text, user_vars
from heapviz.records import Block, block_from_tuple
from heapviz.svg import WIDTH, esc, policy_line, scene_svg

MAX_FRAMES = 120  # moments embedded in one HTML view (sampled beyond that)
JSON_BUDGET = 600_000  # bytes of embedded scene data before sampling harder
FALLBACK_SVG_MAX = 250_000  # bytes: a bigger last-moment picture is embedded as PNG

_HERE = os.path.dirname(os.path.abspath(__file__))


def record(*, addr: int, state: str, size: int, payload: int, usable: int, requested: int,
            header: int | None, header_size: int, footer: int | None, prev_alloc: bool | None,
            alloc: str, alloc_op: int, free: str, lost: bool,
            held: Iterable[str] = ()) -> dict[str, Any]:
    """A block record as the HTML view shows it on hover (compact JSON; display.js reads
    a: address, s: state, z: size, po: payload offset, u: usable, r: requested, h: header
    fields [size, allocated(, prev allocated)], hs: header bytes, f: footer (1: a copy of
    the header, else its word), as/fs: alloc/free site, lost, v: variables)."""
    rec: dict[str, Any] = {"a": f"0x{addr:x}", "s": state, "z": size}
    if state in ("allocated", "mmapped", "free", "stack"):
        rec["po"] = payload - addr
        rec["u"] = max(usable, 0)
    if requested:
        rec["r"] = requested
    if header is not None:
        fields = [header & ~0x7, header & 1] + ([(header >> 1) & 1] if prev_alloc is not None
                                                else [])
        rec["h"] = fields
        rec["hs"] = header_size
        if footer is not None:
            rec["f"] = 1 if footer == header else f"0x{footer:08x}"
    if alloc:
        rec["as"] = alloc + (f" (op {alloc_op})" if alloc_op else "")
    if free:
        rec["fs"] = free
    if lost:
        rec["lost"] = 1
    held = list(held)
    if held:
        rec["v"] = held
    return rec


def record_of_block(b: Block, buddy: bool, held: Iterable[str] = (),
                    lost: bool = False) -> dict[str, Any]:
    """The hover record of a block, now or at a past step (a Moment's Block: the same)."""
    heap_block = b.state in ("allocated", "free")
    has_header = heap_block or b.state == "mmapped"
    return record(
        addr=b.address, state=b.state, size=b.size, payload=b.payload, usable=b.payload_size,
        requested=b.requested if b.state != "free" else 0,
        header=b.header if has_header else None,
        header_size=(b.payload - b.address) if has_header else 0,
        footer=b.footer if b.has_footer and heap_block else None,
        prev_alloc=b.prev_alloc if heap_block and not buddy else None,
        alloc=site_text(b.site) if b.site and b.state != "free" else "",
        alloc_op=b.seq if b.state != "free" else 0,
        free=site_text(b.free_site) if b.free_site and b.state == "free" else "",
        lost=lost and b.state == "allocated", held=held,
    )



def _sample(n_steps: int, max_frames: int, keep: Iterable[int]) -> list[int]:
    """Frame indexes 0..n_steps (after k steps): all when few, else evenly sampled, always
    with the first, the last and the `keep` ones (errors)."""
    total = n_steps + 1
    if total <= max_frames:
        return list(range(total))
    must = {0, n_steps} | {k for k in keep if 0 <= k <= n_steps}
    must = set(sorted(must)[-max(2, max_frames // 3):]) | {0, n_steps}
    room = max(2, max_frames - len(must))
    step = n_steps / (room - 1)
    return sorted(must | {round(i * step) for i in range(room)})


def _thin(frames: list[int], room: int, prefer: set[int]) -> list[int]:
    """At most `room` of `frames`, evenly spread, the preferred (errors) first."""
    if room <= 0:
        return []
    if len(frames) <= room:
        return frames
    first = [f for f in frames if f in prefer][:room]
    rest = [f for f in frames if f not in prefer]
    n = room - len(first)
    picked = [rest[round(i * (len(rest) - 1) / max(n - 1, 1))] for i in range(n)] if n else []
    return sorted(set(first) | set(picked))


_KINDS = ("rect", "box", "hatch", "line", "arrow", "text")
_STYLES = ("solid", "dotted", "jagged", "thick")


class _Packer:
    """Tables shared by every frame of a view: colours, strings, addresses, items."""

    def __init__(self) -> None:
        self.colors: dict[str, int] = {}
        self.strings: dict[str, int] = {}
        self.addrs: dict[int, int] = {0: 0}
        self.items: dict[tuple[Any, ...], int] = {}
        self.recs: dict[str, int] = {}
        self.bytes = 0  # about what the tables and frames weigh as JSON

    def _ix(self, table: dict[Any, int], key: Any) -> int:
        i = table.get(key)
        if i is None:
            i = table[key] = len(table)
            self.bytes += len(key) + 3 if isinstance(key, str) else 3 * len(key) + 2 if \
                isinstance(key, tuple) else 12
        return i

    def item(self, it: Mapping[str, Any]) -> int:
        k = _KINDS.index(it["kind"])
        extra: tuple[int, ...] = ()
        if it["kind"] == "text":
            flags = (1 if it.get("small") else 0) | (2 if it.get("bold") else 0)
            extra = (self._ix(self.strings, it.get("text", "")), flags)
        elif it["kind"] == "box":
            extra = (_STYLES.index(it.get("style", "solid")),)
        elif it["kind"] == "arrow":
            extra = (int(it.get("bend", 0)),)
        key = (k, self._ix(self.colors, it["color"]), it["x"], it["y"], it["w"], it["h"],
               self._ix(self.addrs, int(it.get("addr", 0))), 1 if it.get("scroll") else 0,
               *extra)
        return self._ix(self.items, key)

    def addr(self, a: int) -> int:
        return self._ix(self.addrs, a)

    def rec(self, rec: Mapping[str, Any]) -> int:
        return self._ix(self.recs, json.dumps(rec, separators=(",", ":"), sort_keys=True))

    def tables(self) -> dict[str, Any]:
        return {
            "colors": list(self.colors),
            "strings": list(self.strings),
            "addrs": [f"0x{a:x}" for a in self.addrs],
            "items": [list(k) for k in self.items],
            "recs": [json.loads(r) for r in self.recs],
        }


def _asset(name: str) -> str:
    with open(os.path.join(_HERE, name), encoding="utf-8") as f:
        return f.read()


@dataclass
class Timeline:
    """The data of one HTML view: packed scenes of sampled moments and their records."""

    data: dict[str, Any]
    final_scene: dict[str, Any]
    frames: list[int] = field(default_factory=list)
    fallback: str = ""  # the last moment without JavaScript: SVG, or a PNG when SVG is big


def _frame_budget(n_items: int, max_frames: int) -> int:
    """How many moments fit JSON_BUDGET when each scene has about n_items items (pessimistic:
    as if no item were shared between moments)."""
    return max(2, min(max_frames, JSON_BUDGET // max(1, n_items * 8)))


def timeline(h: Any, *, width: int = WIDTH, max_frames: int = MAX_FRAMES,
             error: BaseException | None = None) -> Timeline:
    """Sample the history, draw each moment's scene, and attach hover records.

    Every frame comes from the one replay (heapviz.history): a past moment's scene, blocks
    and marks are the replay's, the last frame's the live heap's (with the variables that
    point into each block) — read the same way, so a block hovers the same in both."""
    viz = render.viz()
    live_vars = user_vars(h)
    final = dict(viz.scene(h._capsule(), width=width, vars=None))
    first = h._history()[0]
    past = History(h)
    n = past.steps if first == 0 else 0
    notes: list[str] = []
    if first > 0:
        notes.append(f"the history was truncated (events before {first} are gone): only "
                     "the present can be drawn, no timeline")
    budget = _frame_budget(len(final["items"]), max_frames)
    described = [past.step(k) for k in range(1, n + 1)] if n else []
    errors = {s.k for s in described if s.error}
    frames = _sample(n, budget, sorted(errors)) if n else [0]
    pk = _Packer()
    rec_memo: dict[tuple[Any, ...], int] = {}
    out_frames: list[dict[str, Any]] = []
    height = int(final["height"])
    buddy = h.policy == "buddy"
    leaked = 1 << MARKS.index("leaked")
    plan, j, before = list(frames), 0, 0
    while j < len(plan):
        k = plan[j]
        j += 1
        if k == n:
            sc, moment = final, past.now()
        else:
            moment = past.at(k)
            sc = dict(viz.scene(past.replay, width=width, vars=None))
        height = max(height, int(sc["height"]))
        held = _held(moment.blocks(), live_vars) if k == n else {}
        recs = _records(pk, rec_memo, moment, sc, buddy, held, leaked)
        s = described[k - 1] if k > 0 else None
        out_frames.append({
            "k": k,
            "i": [pk.item(it) for it in sc["items"]],
            "c": list(sc.get("clip", (0, sc["height"]))),
            "b": recs,
            "d": (s.text if s else "the start: nothing allocated yet") if n else "now",
            "s": site_text(s.site) if s and s.site else "",
            "e": 1 if s and s.error else 0,
        })
        pk.bytes += 6 * len(out_frames[-1]["i"]) + 8 * len(recs) + 80
        # what this moment cost says how many of the moments still to come fit the budget
        added, before = pk.bytes - before, pk.bytes
        mid = plan[j:-1]
        room = int((JSON_BUDGET - pk.bytes - added) // max(added, 1))
        if mid and len(mid) > room:
            plan = plan[:j] + _thin(mid, max(room, 0), errors) + plan[-1:]
    frames = [f["k"] for f in out_frames]
    if len(frames) < n + 1:
        notes.append(f"{len(frames)} of {n + 1} moments embedded (sampled evenly, errors "
                     "kept): h.watch() or h.show() step through every one")
    var_text = ", ".join(f"{k} → 0x{v:x}" for k, v in live_vars.items())
    data = {
        "v": 1,
        "w": width,
        "h": height,
        "bg": final["background"],
        "n": n,
        "title": policy_line(h),
        "frames": out_frames,
        "legend": [[c, label] for _role, c, label in render.legend()],
        "notes": notes,
        "vars": var_text,
        "err": str(error).splitlines()[0] if error is not None else "",
        **pk.tables(),
    }
    fallback = scene_svg(final, height=height)
    if len(fallback) > FALLBACK_SVG_MAX:
        png = viz.render(h._capsule(), width=width, vars=None)
        fallback = (f'<img alt="the heap now" width="{width}" '
                    f'src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}"/>')
    return Timeline(data=data, final_scene=final, frames=frames, fallback=fallback)


def _held(blocks: list[Block], variables: Mapping[str, int]) -> dict[int, list[str]]:
    """Block address -> the variables that point into it."""
    held: dict[int, list[str]] = {}
    starts = [b.address for b in blocks]
    for name, v in variables.items():
        i = bisect.bisect_right(starts, v) - 1
        if i >= 0 and v < blocks[i].address + blocks[i].size:
            held.setdefault(blocks[i].address, []).append(name)
    return held


def hover_records(moment: Moment, buddy: bool,
                  held: Mapping[int, Iterable[str]] | None = None) -> dict[int, dict[str, Any]]:
    """Block address -> the record the view shows when the mouse is on that block, at
    one moment (now or past: the same records of the same blocks)."""
    leaked = 1 << MARKS.index("leaked")
    marks = moment.mark_bits
    held = held or {}
    return {b.address: record_of_block(b, buddy, tuple(held.get(b.address, ())),
                                       bool(marks.get(b.address, 0) & leaked))
            for b in moment.blocks()}


def _records(pk: _Packer, memo: dict[tuple[Any, ...], int], moment: Moment,
             sc: Mapping[str, Any], buddy: bool, held: Mapping[int, list[str]],
             leaked: int) -> list[list[int]]:
    """[address index, record index] of every block the scene draws (hover_records' record
    of it); a block that looks the same at several moments is packed once."""
    drawn = {int(it["addr"]) for it in sc["items"] if it.get("addr")}
    marks = moment.mark_bits
    out: list[list[int]] = []
    for t in moment.raw_blocks:
        addr = t[0]
        if addr not in drawn:
            continue
        lost = bool(marks.get(addr, 0) & leaked)
        names = tuple(held.get(addr, ()))
        key = (*t, lost, names)
        ri = memo.get(key)
        if ri is None:
            b = block_from_tuple(moment._heap, t)
            ri = memo[key] = pk.rec(record_of_block(b, buddy, names, lost))
        out.append([pk.addr(addr), ri])
    return out


def html(h: Any, *, width: int = WIDTH, max_frames: int = MAX_FRAMES,
         error: BaseException | None = None) -> str:
    """The interactive view as one self-contained HTML fragment (no external resources)."""
    tl = timeline(h, width=width, max_frames=max_frames, error=error)
    return timeline_html(tl)


def timeline_html(tl: Timeline) -> str:
    vid = "hv" + uuid.uuid4().hex[:10]
    data = json.dumps(tl.data, separators=(",", ":"), ensure_ascii=True)
    data = data.replace("</", "<\\/")  # never close the script element early
    fallback = tl.fallback or scene_svg(tl.final_scene, height=tl.data["h"])
    n = tl.data["n"]
    last = tl.data["frames"][-1]
    legend = "".join(
        f'<span class="hv-key"><i style="background:{c}"></i>{esc(label)}</span>'
        for c, label in tl.data["legend"])
    notes = "".join(f'<div class="hv-note">{esc(t)}</div>' for t in tl.data["notes"])
    err = (f'<div class="hv-err">✖ {esc(tl.data["err"])}</div>' if tl.data["err"] else "")
    nf = len(tl.data["frames"])
    controls = (
        f'<div class="hv-bar"><button class="hv-first" title="first">◀◀</button>'
        f'<button class="hv-back" title="back one step">◀</button>'
        f'<button class="hv-play" title="play">▶︎ play</button>'
        f'<button class="hv-step" title="step forward">▶</button>'
        f'<button class="hv-last" title="last">▶▶</button>'
        f'<input class="hv-slider" type="range" min="0" max="{nf - 1}" value="{nf - 1}" '
        f'step="1" aria-label="timeline"/>'
        f'<span class="hv-pos">step {last["k"]} / {n}</span></div>'
    )
    return (
        f'<div class="heapviz-view" id="{vid}" data-frames="{nf}" data-steps="{n}">'
        f"<style>{_asset('display.css')}</style>"
        f'<div class="hv-title">heapviz · {esc(tl.data["title"])}</div>{err}'
        f"{controls}"
        f'<div class="hv-desc">{esc(last["d"])}'
        f'{" — " + esc(last["s"]) if last["s"] else ""}</div>'
        f'<div class="hv-stage">{fallback}<div class="hv-tip" hidden></div></div>'
        f'<div class="hv-vars">{"variables: " + esc(tl.data["vars"]) if tl.data["vars"] else ""}'
        f"</div>"
        f'<div class="hv-legend">{legend}</div>{notes}'
        f'<div class="hv-nojs">(the timeline needs JavaScript: run or trust the notebook)</div>'
        f'<script type="application/json" class="hv-data">{data}</script>'
        f"<script>{_asset('display.js')}\n;heapvizView(document.currentScript, "
        f"{json.dumps(vid)});</script>"
        f"</div>"
    )


def page(fragment: str, title: str = "heapviz") -> str:
    """A standalone HTML page around a view (what a browser opens)."""
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f"</head><body>{fragment}</body></html>")


def steps(h: Any) -> list[Any]:
    """What each operation of the history did (heapviz.history.Step), in order."""
    past = History(h)
    return [past.step(k) for k in range(1, past.steps + 1)] if h._history()[0] == 0 else []
