"""Nothing leaks a reference: arguments keep their reference counts across every call,
and a long loop of every operation does not grow the process (as multidict's leak tests)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap

import heapviz
from heapviz import NULL, Heap


def test_argument_refcounts_are_stable():
    with Heap() as h:
        p = h.malloc(64)
        data = b"x" * 16
        # a str of its own: the interned "int" is shared with the rest of the process,
        # whose caches may take references to it while the loop runs
        t = "".join(["in", "t"])
        before = None
        for i in range(1001):
            if i == 1:  # after one warm-up round (first error, caches filled)
                before = (sys.getrefcount(p), sys.getrefcount(data), sys.getrefcount(h),
                          sys.getrefcount(t), sys.getrefcount(NULL))
            p[0:16] = data
            p.read(16)
            p[3]
            p.cast(t)[1] = 5
            q = h.realloc(h.malloc(8), 16)
            h.free(q)
            h.free(NULL)
            heapviz.memcpy(p + 32, p, 16)
            heapviz.memset(p, 0, 8)
            int(p + 1)
            (p + 1) - p
            with contextlib.suppress(heapviz.BufferOverflow):
                p[1000]
            with contextlib.suppress(TypeError):
                h.malloc("x")
        after = (sys.getrefcount(p), sys.getrefcount(data), sys.getrefcount(h),
                 sys.getrefcount(t), sys.getrefcount(NULL))
        assert before == after


LOOP = textwrap.dedent("""
    import gc, resource, heapviz
    def rss():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    def work(n):
        for _ in range(n):
            with heapviz.Heap(size=4096, max_size=1 << 20) as h:
                ps = [h.malloc(i * 8) for i in range(20)]
                for p in ps[::2]:
                    h.free(p)
                ps[1][0:4] = b"abcd"
                ps[1].read(4)
                h.blocks(); h.stats(); h.free_list(); h.check(); list(h.events)[:5]
                for p in ps[1::2]:
                    h.free(p)
                try:
                    ps[1][0]
                except heapviz.UseAfterFree:
                    pass
    work(200); gc.collect(); first = rss()
    work(2000); gc.collect(); second = rss()
    print(second - first)
""")


def test_long_loop_does_not_grow():
    out = subprocess.run([sys.executable, "-c", LOOP], capture_output=True, text=True,
                         check=True)
    growth_kib = int(out.stdout.strip().splitlines()[-1])
    assert growth_kib < 8 * 1024, f"RSS grew by {growth_kib} KiB over 2000 heaps"
