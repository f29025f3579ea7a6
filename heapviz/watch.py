"""h.watch(): a live widget under a notebook cell (ipywidgets).

It follows the heap as later cells run — at most ``WATCH_HZ`` refreshes a second, through the
heap's step hooks (heapviz.hooks), and never more than a third of the script's time — with
back/step buttons and a slider over the history (every step from the one replay); "live"
follows the heap again.  The widget keeps its heap alive; once the heap is closed it stops
following and keeps its last picture.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Mapping
from typing import Any

from heapviz import hooks, ipython, render
from heapviz.svg import WIDTH

WATCH_HZ = 10.0  # live widget refreshes a second, at most


class Watch:
    """A live view under a notebook cell (ipywidgets): follows the heap as later cells run,
    at most WATCH_HZ refreshes a second; back/step buttons and a slider move through the
    history; "live" follows the heap again."""

    def __init__(self, h: Any, width: int = WIDTH, hz: float = WATCH_HZ) -> None:
        try:  # optional, and slow to import: only when a widget is made
            import ipywidgets as w
        except ImportError as e:
            raise RuntimeError("h.watch() needs ipywidgets: pip install ipywidgets "
                               "(or pip install 'heapviz[notebook]')") from e
        self.h, self.width, self.interval = h, width, 1.0 / hz
        self.following = True
        self.pos = 0
        self.refreshes = 0
        self._next = 0.0  # monotonic time before which the hook does not redraw
        self._replay = render.viz().Replay(h)  # counts steps, incrementally
        self._busy = threading.Lock()
        self._displayed = False
        self.image = w.Image(format="png", layout=w.Layout(max_width="100%"))
        self.back = w.Button(description="◀ back", tooltip="one step back in the history",
                             layout=w.Layout(width="90px"))
        self.step = w.Button(description="step ▶", tooltip="one step forward",
                             layout=w.Layout(width="90px"))
        self.live = w.ToggleButton(value=True, description="live", tooltip="follow the heap",
                                   layout=w.Layout(width="70px"))
        self.slider = w.IntSlider(min=0, max=0, value=0, description="step",
                                  continuous_update=True, layout=w.Layout(width="420px"))
        self.label = w.Label()
        self.back.on_click(lambda _b: self.go(self.pos - 1))
        self.step.on_click(lambda _b: self.go(self.pos + 1))
        self.live.observe(self._on_live, names="value")
        self.slider.observe(self._on_slider, names="value")
        self.widget = w.VBox([w.HBox([self.back, self.step, self.live, self.slider]),
                              self.label, self.image])
        self._hook = self._after_op
        hooks.add_step_hook(h, self._hook)
        shell = ipython.shell()
        if shell is not None:
            shell.events.register("post_run_cell", self._after_cell)
        self.refresh(force=True)

    # --- following ---------------------------------------------------------------------
    def _after_op(self) -> float:
        """The step hook's listener: redraw when due; when to be called next."""
        if not self.following:
            return float("inf")
        if time.monotonic() >= self._next:
            self.refresh()
        return self._next

    def _after_cell(self, *_args: Any) -> None:
        if self.h.closed:
            self.stop()
            return
        hooks.ensure_hook(self.h)  # a viewer may have replaced the hook meanwhile
        if self.following:
            self.refresh(force=True)

    def _steps_now(self) -> int:
        if self.h._history()[0] > 0:
            return 0  # truncated: no past to step through
        return int(self._replay.ops)

    def refresh(self, force: bool = False) -> None:
        """Draw the heap now (when following) or the chosen step."""
        if self.h.closed or not self._busy.acquire(blocking=False):
            return
        start = time.monotonic()
        try:
            n = self._steps_now()
            if self.following:
                self.pos = n
                data = render.render_png(self.h, width=self.width, vars=ipython.user_vars(self.h))
                text = f"live · step {n}"
            else:
                self.pos = max(0, min(self.pos, n))
                data = render.render_png(self.h, width=self.width, at=self.pos)
                text = f"step {self.pos} / {n} (paused: press live to follow)"
            self.image.value = data
            self.slider.max = n
            if self.slider.value != self.pos:
                self.slider.unobserve(self._on_slider, names="value")
                self.slider.value = self.pos
                self.slider.observe(self._on_slider, names="value")
            self.label.value = text
            self.refreshes += 1
        finally:
            end = time.monotonic()
            # at most `hz` a second, and never more than a third of the script's time
            self._next = end + max(self.interval, 2 * (end - start))
            self._busy.release()

    # --- moving ---------------------------------------------------------------------------
    def go(self, k: int) -> None:
        """Show step k (the last: follow the heap again); nothing once the heap is closed
        (the widget keeps its last picture)."""
        if self.h.closed:
            self.stop()
            return
        n = self._steps_now()
        k = max(0, min(k, n))
        self.pos = k
        follow = k >= n
        if follow != self.following:
            self.following = follow
            self.live.unobserve(self._on_live, names="value")
            self.live.value = follow
            self.live.observe(self._on_live, names="value")
        self._wake()
        self.refresh(force=True)

    def _wake(self) -> None:
        """Following again: the step hook must ask this view at the next operation."""
        if self.following and not self.h.closed:
            hooks.wake(self.h)

    def _on_live(self, change: Mapping[str, Any]) -> None:
        if self.h.closed:
            return
        self.following = bool(change["new"])
        if not self.following:
            self.pos = self._steps_now()
        self._wake()
        self.refresh(force=True)

    def _on_slider(self, change: Mapping[str, Any]) -> None:
        self.go(int(change["new"]))

    def stop(self) -> None:
        """Stop following (the widget keeps its last picture)."""
        if not self.h.closed:
            hooks.remove_step_hook(self.h, self._hook)
        shell = ipython.shell()
        if shell is not None:
            with contextlib.suppress(ValueError):
                shell.events.unregister("post_run_cell", self._after_cell)
        self.following = False

    def _ipython_display_(self) -> None:
        if not self._displayed:
            from IPython.display import display  # only under IPython, which is running

            self._displayed = True
            display(self.widget)

    def __repr__(self) -> str:
        state = "live" if self.following else f"at step {self.pos}"
        return f"<heapviz watch {state}: {self.refreshes} refreshes>"


def watch(h: Any, width: int = WIDTH) -> Watch:
    """h.watch(): a live widget under the cell, following the heap as later cells run."""
    w = Watch(h, width=width)
    if ipython.shell() is not None:
        w._ipython_display_()
    return w


class Watching:
    """A live widget for a heap (a mixin of heapviz.Heap)."""

    def watch(self) -> Watch:
        """A live widget under the notebook cell that follows later operations."""
        return watch(self)
