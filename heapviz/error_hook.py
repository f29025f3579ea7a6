"""In a notebook, a HeapError raised in a cell is followed by the picture of its heap.

``install()`` (done when heapviz is imported under IPython, or by ``%load_ext
heapviz.error_hook``) registers an IPython custom exception handler for HeapError: the
usual traceback, then a Snapshot of the heap at the moment of the error — the heap the error
carries (``err.heap``), else the only (or last) open heap of the notebook's namespace.

    >>> install()   # outside IPython: nothing to do
    False
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from heapviz.errors import HeapError
from heapviz.ipython import shell as _shell
from heapviz.model import HeapModel
from heapviz.snapshot import Snapshot

_installed: list[Any] = []


def heap_of_error(err: BaseException, namespace: Mapping[str, Any] | None = None) -> Any:
    """The heap an error happened in: the one it carries (err.heap) while it is open, else
    the only (or last) open heap of the namespace."""
    own = getattr(err, "heap", None)
    if isinstance(own, HeapModel) and not own.closed:
        return own
    heaps: list[HeapModel] = []
    for v in list((namespace or {}).values()):
        if isinstance(v, HeapModel) and not v.closed and all(v is not x for x in heaps):
            heaps.append(v)
    return heaps[-1] if heaps else None


def _on_heap_error(shell: Any, etype: type[BaseException], value: BaseException, tb: Any,
                   tb_offset: Any = None) -> Any:
    """IPython's custom exception handler: the usual traceback, then the heap's picture."""
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    try:
        h = heap_of_error(value, shell.user_ns)
        if h is not None:
            from IPython.display import display  # only under IPython, which is running

            display(Snapshot(h, error=value))
    except Exception as e:  # the picture must never hide the student's error
        print(f"(heapviz could not draw the heap: {e})")
    return None


def install(shell: Any = None) -> bool:
    """Under IPython: after a HeapError raised in a cell, show its heap (idempotent).
    False when there is no IPython shell, or another handler is set for other errors."""
    shell = shell or _shell()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    if shell in _installed:
        return True
    current = getattr(shell, "custom_exceptions", ())
    if current and HeapError not in current:
        return False  # someone else's handler: leave it alone
    shell.set_custom_exc((HeapError,), _on_heap_error)
    _installed.append(shell)
    return True


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext heapviz.error_hook`: the same as install(), for a shell that imported
    heapviz before IPython was running."""
    install(ipython)
