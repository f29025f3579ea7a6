"""The simulated stack, for the chapter's contrast with the heap.

`with h.frame("main") as f:` pushes a frame; f.alloc(n) and f.array(type, n) give
automatic memory that dies when the block ends.  Using it afterwards is a UseAfterReturn;
freeing it is an InvalidFree ("is on the stack").
"""

from __future__ import annotations

import contextlib
import io

import pytest

import heapviz
from heapviz import Heap, Pointer


def line_of(marker: str) -> int:
    with open(__file__) as f:
        for no, line in enumerate(f, 1):
            if f"# {marker}" in line:
                return no
    raise AssertionError(marker)


def test_locals_live_on_the_stack_region(h: Heap) -> None:
    lay = h.layout
    with h.frame("main") as f:
        x = f.array("int", 10)
        buf = f.alloc(5)
        assert lay["stack_base"] <= int(buf) < int(x) < lay["stack_top"]  # grows down
        assert x.type == "int"
        x[0:10] = list(range(10))
        assert x[0:10] == list(range(10))
        buf.write(b"hi\0")
        assert buf.string() == "hi"
        stack = [b for b in h.blocks() if b.state == "stack"]
        assert len(stack) == 2
        assert h._frames()[0][0] == "main"
    assert [b for b in h.blocks() if b.state == "stack"] == []
    assert h._frames() == []
    kinds = [e.kind for e in h.events]
    assert kinds.count("frame_push") == 1 and kinds.count("frame_pop") == 1
    assert kinds.count("stack_alloc") == 2


def test_nested_frames_die_innermost_first(h: Heap) -> None:
    with h.frame("main") as outer:
        a = outer.array("int", 2)
        a[0] = 1
        with h.frame("helper") as inner:
            b = inner.array("int", 2)
            b[0] = 2
            assert [name for name, _, _ in h._frames()] == ["main", "helper"]
        assert a[0] == 1  # main's locals are still alive
        with pytest.raises(heapviz.UseAfterReturn):
            b[0]


def test_use_after_return_names_where_the_local_was_made_and_died(h: Heap) -> None:
    def make() -> Pointer:
        with h.frame("make") as f:  # frame-ends (Python runs __exit__ at the with line)
            local = f.array("int", 4)  # local-made
            local[0:4] = [1, 2, 3, 4]
            return local

    p = make()
    with pytest.raises(heapviz.UseAfterReturn) as info:
        p[1]  # use-after
    err = info.value
    assert err.site.line == line_of("use-after")
    assert err.alloc_site.line == line_of("local-made")
    assert err.free_site is not None and err.free_site.line == line_of("frame-ends")
    assert "is on the stack, in a frame that has returned" in err.report
    assert "Invalid read of size 4" in err.report


def test_use_after_return_even_when_a_new_frame_reuses_the_memory(h: Heap) -> None:
    with h.frame("first") as f:
        old = f.array("int", 4)
        old[0] = 1
    with h.frame("second") as g:
        new = g.array("int", 4)
        new[0] = 2
        assert int(new) == int(old)  # the same stack bytes
        with pytest.raises(heapviz.UseAfterReturn):
            old[0] = 3
        assert new[0] == 2


def test_freeing_stack_memory_is_invalid(h: Heap) -> None:
    with h.frame("main") as f:
        x = f.alloc(16)
        x.write(bytes(16))
        with pytest.raises(heapviz.InvalidFree) as info:
            h.free(x)
        assert f"Address {int(x):#x} is on the stack, in the frame of main()" in \
            info.value.report
        with pytest.raises(heapviz.InvalidFree):
            h.realloc(x, 32)
        assert x.read(16) == bytes(16)


def test_overflowing_a_local(h: Heap) -> None:
    with h.frame("main") as f:
        x = f.array("int", 3)  # three-ints
        with pytest.raises(heapviz.BufferOverflow) as info:
            x[3] = 0
    assert "It is 0 bytes after a stack object of size 12, made at" in info.value.report
    assert info.value.alloc_site.line == line_of("three-ints")


def test_locals_start_uninitialized(h: Heap) -> None:
    with h.frame("main") as f:
        x = f.array("int", 2)
        with pytest.raises(heapviz.UninitializedRead) as info:
            x[1]
        assert "Uninitialised value was created by a stack allocation" in info.value.report
        x[1] = 5
        assert x[1] == 5


def test_a_frame_ends_even_when_its_block_raises(h: Heap) -> None:
    with pytest.raises(KeyError), h.frame("main") as f:
        f.alloc(8)
        raise KeyError("boom")
    assert h._frames() == []


def test_stack_memory_needs_a_frame(h: Heap) -> None:
    with h.frame("main") as f:
        pass
    with pytest.raises(RuntimeError, match="no frame"):
        f.alloc(8)
    with pytest.raises(TypeError):
        h.frame(3)  # type: ignore[arg-type]
    with h.frame("main") as f, pytest.raises(ValueError):
        f.array("int", 0)


def test_report_mode_and_dead_stack(h: Heap) -> None:
    h.checks = "report"
    with h.frame("f") as f:
        x = f.array("long", 2)
        x[0] = 7
    with contextlib.redirect_stderr(io.StringIO()) as err:
        x[0] = 8  # goes on, as C would: dead stack is still writable
        x[0]
    assert "UseAfterReturn" not in err.getvalue()  # reports read like valgrind's
    assert [type(e) for e in h.errors()] == [heapviz.UseAfterReturn] * 2


def test_a_pointer_stored_on_the_stack_keeps_a_block_reachable(h: Heap) -> None:
    with h.frame("main") as f:
        slot = f.array("void*", 1)
        slot[0] = h.malloc(32)  # only the stack slot holds it
        [leak] = h.leaks()
        assert leak.kind == "still reachable"
    assert [lk.kind for lk in h.leaks()] == ["definitely lost"]
