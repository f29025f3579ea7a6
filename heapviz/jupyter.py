"""Jupyter display of a heap: a table from MIME type to the function that makes it.

graphviz's jupyter_integration is the shape: `JupyterIntegration` is a small mixin whose
``_repr_mimebundle_(include, exclude)`` asks ``mimebundle()``, which makes each MIME type
wanted through ``MIME_TYPES``:

* ``text/plain`` — the heap's repr (and its block table when the renderer is not built);
* ``image/png`` — the renderer's picture (the window's, headless);
* ``image/svg+xml`` — the same scene written as SVG (left out for a huge heap: the PNG says
  the same in less);
* ``text/html`` — the interactive timeline (heapviz.timeline).

    >>> import heapviz
    >>> h = heapviz.Heap(); p = h.malloc(24)
    >>> sorted(h._repr_mimebundle_(include=["text/plain", "image/png"]))
    ['image/png', 'text/plain']
    >>> h._repr_mimebundle_(include=[])
    {}
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from typing import Any

from heapviz import render, text
from heapviz.ipython import user_vars
from heapviz.svg import WIDTH, svg
from heapviz.timeline import html

SVG_MAX = 1_000_000  # bytes: image/svg+xml is left out of the bundle beyond this


def _text(h: Any, vars: dict[str, int], error: BaseException | None) -> str:
    return repr(h)


def _png(h: Any, vars: dict[str, int], error: BaseException | None) -> str:
    return base64.b64encode(render.render_png(h, width=WIDTH, vars=vars)).decode("ascii")


def _svg(h: Any, vars: dict[str, int], error: BaseException | None) -> str | None:
    picture = svg(h, vars=vars)
    return picture if len(picture) <= SVG_MAX else None


def _html(h: Any, vars: dict[str, int], error: BaseException | None) -> str:
    return html(h, error=error)


# MIME type -> what makes it, in the order a frontend prefers the last of them.
MIME_TYPES: dict[str, Callable[[Any, dict[str, int], BaseException | None], str | None]] = {
    "text/plain": _text,
    "image/png": _png,
    "image/svg+xml": _svg,
    "text/html": _html,
}


def wanted(include: Iterable[str] | None = None,
           exclude: Iterable[str] | None = None) -> list[str]:
    """The MIME types to make: those of `include` (None: all; empty: none) not in
    `exclude`, in MIME_TYPES' order."""
    inc = set(MIME_TYPES) if include is None else set(include)
    exc = set(exclude or ())
    return [m for m in MIME_TYPES if m in inc and m not in exc]


def mimebundle(h: Any, include: Iterable[str] | None = None,
               exclude: Iterable[str] | None = None, *,
               error: BaseException | None = None) -> dict[str, Any]:
    """The heap's rich display: text, PNG, SVG and the interactive HTML (as asked)."""
    want = wanted(include, exclude)
    if getattr(h, "closed", False):
        return {m: repr(h) for m in want if m == "text/plain"}
    if not render.available():
        return {m: repr(h) + "\n" + text.table(h) for m in want if m == "text/plain"}
    vars = user_vars(h) if any(m != "text/plain" for m in want) else {}
    bundle: dict[str, Any] = {}
    for mime in want:
        value = MIME_TYPES[mime](h, vars, error)
        if value is not None:
            bundle[mime] = value
    return bundle


def png(h: Any, width: int = WIDTH, at: int | None = None, vars: Any = None) -> bytes:
    """The renderer's PNG of `h` (now, or after `at` steps)."""
    if vars is None and at is None:
        vars = user_vars(h)
    return render.render_png(h, width=width, at=at, vars=vars)


class JupyterIntegration:
    """Jupyter shows a heap inline (a mixin of heapviz.Heap)."""

    def _repr_mimebundle_(self, include: Iterable[str] | None = None,
                          exclude: Iterable[str] | None = None,
                          **_: Any) -> dict[str, Any]:
        return mimebundle(self, include, exclude)
