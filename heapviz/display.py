"""heapviz.display: the notebook views' names as they were, for notebooks and code that
imported them from here.

Each concept now lives in a module of its own (heapviz/jupyter.py, snapshot.py, timeline.py,
svg.py, watch.py, hooks.py, ipython.py, error_hook.py); this module only gathers their
names.  ``%load_ext heapviz.display`` still installs the error hook.
"""

from __future__ import annotations

from heapviz.error_hook import heap_of_error, install, load_ipython_extension
from heapviz.hooks import add_step_hook, current_step_hook, remove_step_hook
from heapviz.hooks import ensure_hook as _ensure_hook
from heapviz.ipython import site_text, user_vars
from heapviz.jupyter import SVG_MAX, mimebundle, png
from heapviz.jupyter import wanted as _wanted
from heapviz.snapshot import Snapshot, snapshot
from heapviz.svg import WIDTH, item_svg, scene_svg, svg
from heapviz.timeline import MAX_FRAMES, Timeline, html, page, steps, timeline, timeline_html
from heapviz.watch import WATCH_HZ, Watch, watch

__all__ = [
    "MAX_FRAMES",
    "SVG_MAX",
    "WATCH_HZ",
    "WIDTH",
    "Snapshot",
    "Timeline",
    "Watch",
    "_ensure_hook",
    "_wanted",
    "add_step_hook",
    "current_step_hook",
    "heap_of_error",
    "html",
    "install",
    "item_svg",
    "load_ipython_extension",
    "mimebundle",
    "page",
    "png",
    "remove_step_hook",
    "scene_svg",
    "site_text",
    "snapshot",
    "steps",
    "svg",
    "timeline",
    "timeline_html",
    "user_vars",
    "watch",
]
