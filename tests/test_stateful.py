"""Hypothesis stateful tests: every policy against a model, the checker after every step.

The model is what C promises: live blocks do not overlap, a block keeps its contents until
freed, realloc keeps min(old, new) bytes.  All of it runs in checks="strict", so a false
positive of the error detector (issue 3) fails these tests too.
"""

from __future__ import annotations

import itertools

import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

import heapviz
from heapviz import Heap

SIZES = st.one_of(st.integers(0, 64), st.integers(65, 600), st.integers(601, 5000))


def machine_for(policy: str, order: str = "address", coalesce: str = "immediate",
                align: int = 16, **extra: object) -> type[RuleBasedStateMachine]:
    class HeapMachine(RuleBasedStateMachine):
        blocks = Bundle("blocks")

        def __init__(self) -> None:
            super().__init__()
            self.h = Heap(policy=policy, order=order, coalesce=coalesce, align=align,
                          max_size=1 << 22, mmap_threshold=8192, **extra)
            self.live: dict[int, tuple[heapviz.Pointer, bytes]] = {}
            self.counter = 0

        def teardown(self) -> None:
            self.h.checks = "off"  # the leak summary is not the point here
            self.h.close()

        def _fill(self, p: heapviz.Pointer, n: int) -> bytes:
            self.counter += 1
            data = bytes((self.counter * 31 + i * 7) & 0xFF for i in range(n))
            if n:
                p[0:n] = data
            return data

        @rule(target=blocks, n=SIZES)
        def malloc(self, n: int) -> int:
            p = self.h.malloc(n)
            if not p:
                return 0
            assert int(p) % align == 0
            self.live[int(p)] = (p, self._fill(p, n))
            return int(p)

        @rule(target=blocks, n=st.integers(0, 40), size=st.integers(1, 16))
        def calloc(self, n: int, size: int) -> int:
            p = self.h.calloc(n, size)
            if not p:
                return 0
            assert p.read(n * size) == bytes(n * size)
            self.live[int(p)] = (p, p.read(n * size))
            return int(p)

        @rule(addr=consumes(blocks))
        def free(self, addr: int) -> None:
            if addr in self.live:
                p, _ = self.live.pop(addr)
                self.h.free(p)

        @rule(target=blocks, addr=consumes(blocks), n=SIZES)
        def realloc(self, addr: int, n: int) -> int:
            if addr not in self.live:
                return 0
            p, data = self.live.pop(addr)
            q = self.h.realloc(p, n)
            if n == 0:
                assert not q
                return 0
            if not q:  # failed: the old block is untouched
                self.live[addr] = (p, data)
                return addr
            keep = min(len(data), n)
            assert q.read(keep) == data[:keep]
            self.live[int(q)] = (q, data[:keep] + self._fill(q + keep, n - keep))
            return int(q)

        @invariant()
        def consistent(self) -> None:
            assert self.h.check() == []
            spans = sorted((a, a + len(d)) for a, (_, d) in self.live.items())
            for (_, end), (start, _) in itertools.pairwise(spans):
                assert end <= start, "live blocks overlap"
            for a, (p, d) in self.live.items():
                assert p.read(len(d)) == d, f"contents of 0x{a:x} changed"
            assert self.h.errors() == []

    HeapMachine.__name__ = f"HeapMachine_{policy}_{order}_{coalesce}_{align}"
    return HeapMachine


SETTINGS = settings(max_examples=25, stateful_step_count=40, deadline=None)

TestFirstAddress = machine_for("first").TestCase
TestFirstLifo = machine_for("first", "lifo").TestCase
TestNextFifo = machine_for("next", "fifo").TestCase
TestBestSize = machine_for("best", "size").TestCase
TestBestAddressDeferred = machine_for("best", "address", "deferred").TestCase
TestWorstSizeDesc = machine_for("worst", "size-desc").TestCase
TestFirstNoCoalesce = machine_for("first", "address", "none", align=8).TestCase
TestSegregated = machine_for("segregated", align=8, footer=False).TestCase
TestBuddy = machine_for("buddy").TestCase
TestFirstMagicAlign4 = machine_for("first", "address", align=4, magic=True).TestCase

for _case in (TestFirstAddress, TestFirstLifo, TestNextFifo, TestBestSize,
              TestBestAddressDeferred, TestWorstSizeDesc, TestFirstNoCoalesce, TestSegregated,
              TestBuddy, TestFirstMagicAlign4):
    _case.settings = SETTINGS
