"""Step hooks: several listeners on the binding's single "after each operation" hook.

The binding calls one callable after every operation (``h._set_step_hook``); the viewer's
step mode sets it directly.  ``add_step_hook(h, fn)`` puts a dispatcher there instead, which
calls that foreign hook first and then its listeners — only when one is due, so an operation
pays one cheap call and a clock read.  A listener returns the monotonic time of its next
wish to be called (None: after every operation).  The live widget (heapviz.watch) is one.

    >>> import heapviz
    >>> h = heapviz.Heap(); calls = []
    >>> h.add_step_hook(lambda: calls.append(1))
    >>> p = h.malloc(8); h.free(p)
    >>> len(calls)
    2
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

Listener = Callable[[], float | None]


def current_step_hook(h: Any) -> Any:
    """The callable the binding calls after each operation, if any."""
    return h._get_step_hook()


class _Dispatch:
    """What the binding calls after each operation: a foreign hook first (the viewer's step
    mode), then the listeners added with add_step_hook — those only when one is due, so an
    operation pays one cheap call and a clock read.  A listener returns the monotonic time of
    its next wish to be called (None: after every operation)."""

    def __init__(self) -> None:
        self.foreign: Callable[[], Any] | None = None
        self.listeners: list[Callable[[], float | None]] = []
        self.next_at = 0.0
        mono, d = time.monotonic, self

        def hook() -> None:
            if d.foreign is not None:
                d.foreign()
            if mono() >= d.next_at:
                d.fire()

        self.hook = hook

    def fire(self) -> None:
        due = []
        for fn in list(self.listeners):
            t = fn()
            due.append(0.0 if t is None else t)
        self.next_at = min(due, default=float("inf"))


def _dispatch(h: StepHooks) -> _Dispatch:
    if h._step_dispatch is None:
        h._step_dispatch = _Dispatch()
    return h._step_dispatch


def ensure_hook(h: Any) -> None:
    """(Re)install our dispatcher, chaining any hook someone else set meanwhile."""
    if h.closed:
        return
    d = _dispatch(h)
    cur = current_step_hook(h)
    if cur is d.hook:
        return
    d.foreign = cur
    if d.listeners:
        h._set_step_hook(d.hook)


def add_step_hook(h: Any, fn: Callable[[], float | None]) -> None:
    """Call fn after operations of h (when due, see _Dispatch), besides whatever hook is
    already set (which is kept and called first)."""
    d = _dispatch(h)
    d.listeners.append(fn)
    d.next_at = 0.0
    ensure_hook(h)


def wake(h: Any) -> None:
    """Ask every listener at the next operation (one that was idle wants to be called)."""
    _dispatch(h).next_at = 0.0


def remove_step_hook(h: Any, fn: Callable[[], float | None]) -> None:
    """Stop calling fn; when no listener is left, give the binding back the foreign hook."""
    d = _dispatch(h)
    with contextlib.suppress(ValueError):
        d.listeners.remove(fn)
    if h.closed:
        return
    if not d.listeners and current_step_hook(h) is d.hook:
        h._set_step_hook(d.foreign)
        d.foreign = None


class StepHooks:
    """Listeners after each operation, as methods (a mixin of heapviz.Heap)."""

    _step_dispatch: _Dispatch | None = None  # made by the first add_step_hook

    def add_step_hook(self, fn: Listener) -> None:
        """Call fn after the heap's operations (when due: fn returns the monotonic time it
        next wants to be called, None for after every operation)."""
        add_step_hook(self, fn)

    def remove_step_hook(self, fn: Listener) -> None:
        """Stop calling fn."""
        remove_step_hook(self, fn)
