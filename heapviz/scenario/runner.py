"""Running a scenario: each step on the heap, as if from the scenario's own line.

    r = Runner(scenario, heap)
    for result in r:            # or r.run()
        ...
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from types import CodeType
from typing import Any

from heapviz import _core, callsite
from heapviz._core import NULL, Pointer, sizeof
from heapviz.cstring import memcpy, memset, strcpy
from heapviz.errors import HeapError
from heapviz.heap import Heap
from heapviz.scenario.parser import ERRORS, Ref, Scenario, Step

site_code = callsite.site_code




@dataclass
class StepResult:
    """What one step did: its value (a Pointer, bytes read…), the errors it raised or
    reported, and `failure` (a message) when it did not go as the scenario says."""

    step: Step
    value: Any = None
    address: int | None = None  # the pointer the step made (value holds no Pointer)
    errors: list[BaseException] = field(default_factory=list)
    failure: str | None = None
    lost: int = 0  # "lost" events: blocks whose last pointer died in this step

    @property
    def ok(self) -> bool:
        return self.failure is None

    def describe(self) -> str:
        """A short note for the step log: the result, or the error caught."""
        if self.step.expect and self.ok:
            return f"✓ {self.step.expect} (expected)"
        if self.failure:
            return "✗ " + self.failure.split("\n")[0]
        if self.address is not None:
            return "→ NULL" if not self.address else f"→ {self.address:#x}"
        v = self.value
        if isinstance(v, bytes | int | float):
            return f"→ {v!r}"
        if isinstance(v, list):
            return "→ " + ", ".join(map(str, v))
        return ""


class _StepFailed(Exception):
    pass


class Runner:
    """Runs a Scenario on a heap, one step at a time, as the scenario's own lines.

        r = Runner(scenario, heap)
        for result in r:            # or r.run()
            ...
    `vars` holds the scenario's variables (name -> Pointer)."""

    def __init__(self, scenario: Scenario, heap: Heap) -> None:
        self.scenario, self.heap = scenario, heap
        self.vars: dict[str, Pointer] = {}
        self.results: list[StepResult] = []
        self._codes: dict[int, CodeType] = {}

    def __iter__(self) -> Iterator[StepResult]:
        for step in self.scenario.steps:
            result = self.run_step(step)
            yield result
            if not result.ok:
                return

    def run(self) -> list[StepResult]:
        """Every step until the first failure; the results."""
        return list(self)

    @property
    def failure(self) -> StepResult | None:
        return next((r for r in self.results if not r.ok), None)

    def pointer_vars(self) -> dict[str, int]:
        """The variables that point somewhere (for the pictures' arrows)."""
        return {k: int(v) for k, v in self.vars.items() if int(v)}

    # --- one step -----------------------------------------------------------------------
    def run_step(self, step: Step) -> StepResult:
        h = self.heap
        res = StepResult(step)
        errors_before = len(h.error_log.errors)
        _, count = h._history()
        raised: BaseException | None = None
        code = self._codes.get(step.line)
        if code is None:
            code = self._codes[step.line] = site_code(self.scenario.path, step.line)
        try:
            callsite.call_at(code, lambda: self._do(step, res))
        except HeapError as e:
            raised = e.with_traceback(None)  # its frames would keep the step's Pointers alive
        except _StepFailed as e:
            res.failure = str(e)
        except Exception as e:  # ValueError, OverflowError, RuntimeError…: the step's fault
            res.failure = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        reported = h.error_log.errors[errors_before:]
        res.errors = reported if raised is None or any(e is raised for e in reported) else [
            *reported, raised]
        if isinstance(res.value, Pointer):
            # Results outlive the step: they must not keep a Pointer (and its block) alive.
            res.address, res.value = int(res.value), None
        if not h.closed:
            _, now = h._history()
            res.lost = sum(1 for t in h._events(count, now) if t[2] == _core.EV_LOST)
        self._judge(step, res)
        self.results.append(res)
        return res

    def _judge(self, step: Step, res: StepResult) -> None:
        if res.failure is not None:
            res.failure = f"{self.scenario.path}:{step.line}: {step.text}: {res.failure}"
            return
        where = f"{self.scenario.path}:{step.line}: {step.text}"
        want = step.expect
        names = ", ".join(type(e).__name__ for e in res.errors)
        if want is None:
            if res.errors:
                res.failure = f"{where}: unexpected {names}:\n{res.errors[0]}"
            return
        if want == "NULL":
            if res.errors:
                res.failure = f"{where}: expected NULL, but it raised {names}:\n{res.errors[0]}"
            elif res.address:
                res.failure = (f"{where}: expected NULL (the request to fail), but it "
                               f"returned {res.address:#x}")
            return
        if want == "Leak":
            if res.errors:
                res.failure = f"{where}: expected a leak, but it raised {names}:\n{res.errors[0]}"
            elif not res.lost:
                res.failure = (f"{where}: expected a leak (the last pointer to a block lost), "
                               "but no block was lost")
            return
        cls = ERRORS[want]
        if not res.errors:
            res.failure = f"{where}: expected {want}, but the step ran without an error"
        elif not any(isinstance(e, cls) for e in res.errors):
            res.failure = f"{where}: expected {want}, but got {names}:\n{res.errors[0]}"

    # --- the commands -------------------------------------------------------------------
    def _ptr(self, ref: Ref) -> Pointer:
        if ref.name is None:
            p = NULL if not ref.addr else Pointer(ref.addr)
        else:
            if ref.name not in self.vars:
                raise _StepFailed(f"{ref.name} is not defined (give it a value first: "
                                  f"{ref.name} = malloc 16)")
            p = self.vars[ref.name]
        if ref.ctype is not None:
            p = p.cast(ref.ctype)
        if ref.index:
            p = p + ref.index
        if ref.offset:
            p = p + ref.offset
        return p

    def _assign(self, step: Step, value: Pointer) -> None:
        if step.target is not None:
            self.vars[step.target] = value

    def _record_write(self, p: Pointer, n: int) -> None:
        """A write is not an event of the binding's: the heap records it (for pictures of
        past steps and for recordings), with the bytes written."""
        self.heap.record_write(p, n)

    def _do(self, step: Step, res: StepResult) -> None:
        h, op, a = self.heap, step.op, step.args
        if op == "malloc":
            res.value = h.malloc(a[0])
        elif op == "calloc":
            res.value = h.calloc(a[0], a[1])
        elif op == "realloc":
            res.value = h.realloc(self._ptr(a[0]), a[1])
        elif op == "strdup":
            res.value = h.strdup(a[0])
            if res.value:
                self._record_write(res.value, len(a[0]) + 1)
        elif op == "mmap":
            res.value = h.mmap(a[0])
        elif op == "local":
            if not h._frames():
                raise _StepFailed("local needs a function frame: 'enter main' first")
            res.value = h._frame_alloc(a[0])
        elif op == "assign":
            res.value = self._ptr(a[0])
        elif op == "free":
            h.free(self._ptr(a[0]))
        elif op == "munmap":
            h.munmap(self._ptr(a[0]))
        elif op == "sbrk":
            res.value = h.sbrk(a[0])
        elif op == "write":
            self._write(self._ptr(a[0]), a[1])
        elif op == "read":
            res.value = self._read(self._ptr(a[0]), a[1])
        elif op == "strcpy":
            dst = self._ptr(a[0])
            strcpy(dst, a[1])
            self._record_write(dst, len(a[1]) + 1)
        elif op == "memset":
            dst = self._ptr(a[0])
            if not 0 <= a[1] <= 255:
                raise _StepFailed(f"memset's byte must be 0..255, not {a[1]}")
            memset(dst, a[1], a[2])
            self._record_write(dst, a[2])
        elif op == "memcpy":
            dst = self._ptr(a[0])
            memcpy(dst, self._ptr(a[1]), a[2])
            self._record_write(dst, a[2])
        elif op == "note":
            h.note(a[0])
        elif op == "check":
            problems = h.check()
            if problems:
                raise _StepFailed("the heap check found:\n" + "\n".join(map(str, problems)))
        elif op == "enter":
            h._frame_push(a[0])
        elif op == "leave":
            if not h._frames():
                raise _StepFailed("leave without enter: no function frame is open")
            h._frame_pop()
        else:  # pragma: no cover - parse() makes only the steps above
            raise _StepFailed(f"unknown step {op}")
        if isinstance(res.value, Pointer):
            self._assign(step, res.value)
            # Dropped here, inside the step, so that a lost block is lost at this line.
            res.address, res.value = int(res.value), None

    def _write(self, p: Pointer, values: tuple[Any, ...]) -> None:
        typed = p.type not in ("char", "unsigned char", "signed char", "void")
        data = bytearray()
        elements: list[Any] = []
        for v in values:
            if isinstance(v, bytes):
                if typed:
                    raise _StepFailed(f"a string cannot be written into {p.type} elements")
                data += v
            elif isinstance(v, Ref):
                if not typed or not p.type.endswith("*"):
                    raise _StepFailed(f"a pointer ({v}) can only be written into pointer "
                                      "elements, such as p:void*[0]")
                elements.append(self._ptr(v))
            elif typed:
                elements.append(v)
            else:
                if isinstance(v, float) or not 0 <= v <= 255:
                    raise _StepFailed(f"{v} is not a byte (0..255); write a typed element "
                                      "instead, such as p:int[0] 1000")
                data.append(v)
        if typed:
            size = sizeof(p.type)
            for i, v in enumerate(elements):
                p[i] = v
            self._record_write(p, size * len(elements))
        else:
            p.write(bytes(data))
            self._record_write(p, len(data))

    @staticmethod
    def _read(p: Pointer, count: int) -> Any:
        if not 0 <= count <= 1 << 20:
            raise _StepFailed(f"read's count must be 0 to 1 MiB, not {count}")
        if p.type in ("char", "unsigned char", "signed char", "void"):
            return bytes(p.read(count))
        if count > 1 << 16:
            raise _StepFailed(f"read of {count} elements: at most 65536")
        vals = [p[i] for i in range(count)]
        return vals[0] if count == 1 else vals
