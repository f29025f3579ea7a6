r"""Snapshots: a frozen picture of a heap at one moment.

A Snapshot makes the heap's whole display (PNG, SVG, the interactive HTML: heapviz.jupyter)
when it is taken and keeps only that, so it shows the same later, whatever happens to the
heap — even once the heap is closed — and keeps no reference to it.

    >>> import heapviz
    >>> h = heapviz.Heap(); p = h.malloc(24)
    >>> snap = h.snapshot(); h.close()
    >>> snap.png[:4] == b"\x89PNG"
    True
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from typing import Any

from heapviz.jupyter import mimebundle, wanted
from heapviz.timeline import page


class Snapshot:
    """A frozen picture of a heap at one moment: displays the same later, whatever happens
    to the heap (PNG, SVG and the interactive HTML were made when it was taken)."""

    def __init__(self, h: Any, *, error: BaseException | None = None) -> None:
        self.repr = repr(h)
        self.bundle = mimebundle(h, error=error)

    @property
    def png(self) -> bytes:
        return base64.b64decode(self.bundle.get("image/png", ""))

    @property
    def svg(self) -> str:
        return str(self.bundle.get("image/svg+xml", ""))

    @property
    def html(self) -> str:
        return str(self.bundle.get("text/html", ""))

    def save(self, path: str) -> None:
        """Write the picture: .png, .svg, or .html (a standalone page with the timeline)."""
        ext = os.path.splitext(path)[1].lower()
        if ext == ".png":
            with open(path, "wb") as f:
                f.write(self.png)
        elif ext == ".svg":
            with open(path, "w", encoding="utf-8") as f:
                f.write(self.svg)
        elif ext in (".html", ".htm"):
            with open(path, "w", encoding="utf-8") as f:
                f.write(page(self.html))
        else:
            raise ValueError(f"Snapshot.save({path!r}): use .png, .svg or .html")

    def _repr_mimebundle_(self, include: Iterable[str] | None = None,
                          exclude: Iterable[str] | None = None, **_: Any) -> dict[str, Any]:
        want = wanted(include, exclude)
        return {k: v for k, v in self.bundle.items() if k in want}

    def __repr__(self) -> str:
        return f"<heapviz snapshot of {self.repr}>"


def snapshot(h: Any) -> Snapshot:
    """h.snapshot(): a frozen picture of the heap now."""
    return Snapshot(h)


class Snapshots:
    """Frozen pictures of a heap (a mixin of heapviz.Heap)."""

    def snapshot(self) -> Snapshot:
        """A frozen picture of the heap now, shown inline by Jupyter (PNG, SVG and the
        interactive HTML, made now: it shows the same whatever happens to the heap)."""
        return Snapshot(self)
