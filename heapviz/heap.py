"""heapviz.Heap: the heap model with its views.

graphviz's shape: the model (heapviz.model.HeapModel — the allocator's calls, records,
errors, leaks, frames, recordings) and one small mixin per view, each from the module that
owns the view and depending only on the model:

=====================  ===========================================  =====================
mixin                  methods                                      module
=====================  ===========================================  =====================
Pictures               render(), render_timeline()                  heapviz.render
Window                 show()                                       heapviz.viewer
JupyterIntegration     _repr_mimebundle_()                          heapviz.jupyter
Snapshots              snapshot()                                   heapviz.snapshot
Watching               watch()                                      heapviz.watch
StepHooks              add_step_hook(), remove_step_hook()          heapviz.hooks
=====================  ===========================================  =====================

    >>> h = Heap()
    >>> p = h.malloc(16)
    >>> hex(p)
    '0x10010'
"""

from __future__ import annotations

from heapviz import _core, options
from heapviz.hooks import StepHooks
from heapviz.jupyter import JupyterIntegration
from heapviz.model import EventLog, Frame, HeapModel, block_from_tuple  # noqa: F401
from heapviz.render import Pictures
from heapviz.snapshot import Snapshots
from heapviz.viewer import Window
from heapviz.watch import Watching

# The option names and values, for whoever imported them from here (heapviz.options).
POLICIES, ORDERS, COALESCE, CHECKS, ALIGNS = (
    options.POLICIES, options.ORDERS, options.COALESCE, options.CHECKS, options.ALIGNS)


class Heap(HeapModel, Pictures, Window, JupyterIntegration, Snapshots, Watching, StepHooks):
    """A heap over an mmap-backed arena; every operation is recorded and can be drawn.

    Options (heapviz.options): size, max_size, policy, order, coalesce, align, base,
    mmap_threshold, checks (also in this order), split_threshold, footer, magic,
    stack_size, record, history_limit, ring_capacity, debug."""

    # _own_methods (below) gives Heap the C methods it does not define itself, over what
    # the model defines: the model's own close() (the leak summary) must stay.
    close = HeapModel.close


# CPython's fast call of a C method needs the method to belong to self's own type:
# give Heap its own copies of the C methods it inherits (see heapobj.c).
_core._own_methods(Heap)
