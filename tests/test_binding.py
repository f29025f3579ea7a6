"""The CPython binding itself (csrc/py): limits, lifetimes and garbage collection.

Each test here failed before the bug it names was fixed:
- the frame limit was 64 in the binding and 256 in the core, and at depth 65 the frame
  was already pushed when RecursionError was raised (an orphan frame);
- a capsule (`h._capsule()`) used after `h.close()` read freed memory (SIGSEGV);
- `Pointer` was no GC type, so a heap that keeps a Pointer to itself was never collected;
- 29 private methods had no docstring.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import weakref

import pytest

import heapviz
from heapviz import _core

FRAMES_MAX = 256  # HV_FRAMES_MAX in include/heapviz/heapviz.h


def run_alone(code: str) -> subprocess.CompletedProcess[str]:
    """Run code in a fresh interpreter (a crash there is a failed test, not a dead run)."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=120)


# --- frames: one limit, no orphan ------------------------------------------------------


def test_frames_nest_as_deep_as_the_core_allows() -> None:
    with heapviz.Heap() as h:
        for depth in range(1, FRAMES_MAX + 1):
            h._frame_push(f"f{depth}")
        assert len(h._frames()) == FRAMES_MAX
        for _ in range(FRAMES_MAX):
            h._frame_pop()
        assert h._frames() == []


def test_one_frame_too_many_raises_and_leaves_the_stack_as_it_was() -> None:
    with heapviz.Heap() as h:
        for depth in range(FRAMES_MAX):
            h._frame_push(f"f{depth}")
        top = h._frames()[-1]
        with pytest.raises(RecursionError, match="too many nested frames"):
            h._frame_push("one too many")
        assert len(h._frames()) == FRAMES_MAX  # nothing was pushed: no orphan
        assert h._frames()[-1] == top
        assert h.check() == []
        for _ in range(FRAMES_MAX):
            h._frame_pop()
        assert h._frames() == []


def test_a_stack_object_at_depth_65_and_beyond_is_judged_by_its_frame() -> None:
    with heapviz.Heap() as h:
        frames = [h.frame(f"f{d}") for d in range(100)]
        for fr in frames:
            fr.__enter__()
        buf = frames[-1].alloc(8)
        buf[0] = 1  # alive: its frame (depth 100) is live
        for fr in reversed(frames):
            fr.__exit__(None, None, None)
        with pytest.raises(heapviz.UseAfterReturn):
            buf[0]


# --- the capsule outlives its heap -----------------------------------------------------


def test_a_capsule_keeps_the_arena_readable_after_close() -> None:
    pytest.importorskip("heapviz._viz")
    out = run_alone("""
        import gc, heapviz
        from heapviz import _viz
        h = heapviz.Heap()
        p = h.malloc(40)
        h.free(h.malloc(24))
        cap = h._capsule()
        h.close()
        del h, p
        gc.collect()
        events = _viz.history_bytes(cap, 0, 100)
        scene = dict(_viz.scene(cap, width=400, vars=None))
        replay = _viz.Replay(cap)
        replay.goto(2)
        print(len(events) // 56, len(scene) > 0, replay.ops)
    """)
    assert out.returncode == 0, out.stderr
    n, has_scene, ops = out.stdout.split()
    assert int(n) > 5 and has_scene == "True" and int(ops) == 3


def _open(fd: int) -> str | None:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None


def test_the_arena_goes_back_when_its_last_owner_does() -> None:
    h = heapviz.Heap()
    fd = h.fd
    target = _open(fd)
    assert target is not None and "memfd" in target
    cap = h._capsule()
    h.close()
    assert h.closed
    assert _open(fd) == target  # the capsule still owns the arena
    del cap
    assert _open(fd) != target  # given back with its last owner


def test_a_capsule_of_a_closed_heap_cannot_be_made() -> None:
    h = heapviz.Heap()
    h.close()
    with pytest.raises(ValueError, match="closed"):
        h._capsule()


# --- garbage collection -----------------------------------------------------------------


def test_a_heap_holding_its_own_pointer_is_collected() -> None:
    h = heapviz.Heap()
    h.keep = h.malloc(8)  # heap -> __dict__ -> Pointer -> heap
    h.more = [h.malloc(16), h.malloc(24) + 4]
    fd = h.fd
    target = _open(fd)
    ref = weakref.ref(h)
    del h
    gc.collect()
    assert ref() is None
    assert _open(fd) != target  # and its arena went back to the system


def test_only_pointers_with_a_heap_are_tracked() -> None:
    with heapviz.Heap() as h:
        p = h.malloc(8)
        assert gc.is_tracked(p)
        assert gc.is_tracked(p + 1) and gc.is_tracked(p.cast("int"))
        assert not gc.is_tracked(heapviz.NULL)
        assert not gc.is_tracked(heapviz.Pointer(0x1234))
        assert not gc.is_tracked(heapviz.Pointer())
        assert h in gc.get_referents(p)
        h.free(p)


def test_spare_pointers_come_back_tracked_or_not_as_they_should() -> None:
    with heapviz.Heap() as h:
        for _ in range(200):  # cycles Pointers through the spare list
            q = h.malloc(8)
            assert gc.is_tracked(q)
            h.free(q)
            del q
            assert not gc.is_tracked(heapviz.Pointer(5))


# --- every method says what it does ---------------------------------------------------


def _descriptors(cls: type) -> list[tuple[str, object]]:
    kinds = ("method_descriptor", "getset_descriptor", "member_descriptor")
    return [(name, obj) for name, obj in vars(cls).items()
            if type(obj).__name__ in kinds and name not in ("__dict__", "__weakref__")]


@pytest.mark.parametrize("cls", [_core.Heap, _core.Pointer], ids=lambda c: c.__name__)
def test_every_method_and_attribute_has_a_docstring(cls: type) -> None:
    items = _descriptors(cls)
    assert len(items) > 5
    assert [name for name, obj in items if not (obj.__doc__ or "").strip()] == []


def test_module_functions_have_docstrings() -> None:
    funcs = [getattr(_core, n) for n in dir(_core)
             if type(getattr(_core, n)).__name__ == "builtin_function_or_method"]
    assert len(funcs) >= 5
    assert [f.__name__ for f in funcs if not (f.__doc__ or "").strip()] == []
