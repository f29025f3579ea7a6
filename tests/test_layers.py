"""The package is layered bottom-up and has no import cycle.

Every module imports alone in a fresh interpreter (a cycle, or a module that needs another
to be imported first, fails there), and each layer imports only from layers below it:

    _core, _viz (C)
    base      records, version, sizes, errors, options, callsite, hvlog, leaks, cstring, text
    model     model (HeapModel)
    views     render, history, ipython, svg, timeline, jupyter, snapshot, hooks, watch, viewer,
              error_hook, display
    heap      heap (heapviz.Heap: the model and the views' mixins)
    tools     recording, trace, scenario/*, compare, demo, ostep, native/*
    cli       cli/*, __main__
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "heapviz"
MODULES = sorted(
    ".".join(("heapviz", *p.relative_to(PKG).with_suffix("").parts)).removesuffix(".__init__")
    for p in PKG.rglob("*.py")
)

LAYERS: dict[str, int] = {}
for layer, names in enumerate((
    ("records", "version", "sizes", "errors", "options", "callsite", "hvlog", "leaks",
     "cstring", "text"),
    ("model",),
    ("render", "history", "ipython", "svg", "timeline", "jupyter", "snapshot", "hooks",
     "watch", "viewer", "error_hook", "display"),
    ("heap",),
    ("recording", "trace", "scenario", "compare", "demo", "ostep", "native"),
    ("cli", "__main__"),
)):
    for name in names:
        LAYERS[name] = layer


def _top(module: str) -> str:
    """heapviz.scenario.runner -> scenario."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[tuple[int, str, bool]]:
    """(line, heapviz module imported, outside every function) of every import that runs
    (those under `if TYPE_CHECKING:` only name types)."""
    tree = ast.parse(path.read_text())
    found: list[tuple[int, str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            return
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{a.name}" if node.module == "heapviz" else node.module
                     for a in node.names]
        for name in names:
            if name == "heapviz" or name.startswith("heapviz."):
                found.append((node.lineno, name, not in_function))
        inner = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(tree, False)
    return found


def test_every_module_is_in_a_layer() -> None:
    tops = {_top(m) for m in MODULES} - {"__init__", "_core", "_viz"}
    assert tops <= set(LAYERS), f"put these in a layer: {sorted(tops - set(LAYERS))}"


@pytest.mark.parametrize("module", MODULES)
def test_imports_alone_in_a_fresh_interpreter(module: str) -> None:
    r = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                       text=True, timeout=120, cwd=PKG.parent)
    assert r.returncode == 0, r.stderr[-2000:]


@pytest.mark.parametrize("path", sorted(PKG.rglob("*.py")), ids=lambda p: p.name)
def test_imports_go_down(path: Path) -> None:
    """A module imports heapviz modules of lower layers only (or of its own package), at
    the top of the file: none inside a function to dodge a cycle."""
    module = ".".join(("heapviz", *path.relative_to(PKG).with_suffix("").parts))
    me = _top(module.removesuffix(".__init__"))
    if me == "__init__":
        return  # the package's front door names what is public
    for line, name, top in _imports(path):
        target = name.split(".")
        other = target[1] if len(target) > 1 else "__init__"
        if other in ("_core", "_viz") or other == me:
            continue  # the C modules, this module's own package
        assert top, f"{path.name}:{line}: import of {name} inside a function"
        if other == "__init__":
            assert LAYERS[me] >= LAYERS["heap"], f"{path.name}:{line}: `import heapviz` below " \
                "the heap layer (the package is half loaded then)"
            continue
        assert LAYERS[other] <= LAYERS[me], (f"{path.name}:{line}: {me} (layer "
                                             f"{LAYERS[me]}) imports {other} (layer "
                                             f"{LAYERS[other]})")


def _module_path(name: str) -> Path | None:
    rel = Path(*name.split(".")[1:])
    for p in (PKG / rel.with_suffix(".py"), PKG / rel / "__init__.py"):
        if p.exists():
            return p
    return None


def test_nothing_imports_heapviz_while_it_is_half_loaded() -> None:
    """The modules `import heapviz` runs (its __init__ and what that imports, transitively)
    never import the package itself: it is half loaded while they run."""
    seen: set[str] = set()
    todo = ["heapviz"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _module_path(name) if name != "heapviz" else PKG / "__init__.py"
        if path is None:
            continue  # a name, or a C module
        for line, imported, top in _imports(path):
            if not top:
                continue
            if name != "heapviz":
                assert imported != "heapviz", f"{path.name}:{line}: `import heapviz` while the " \
                    "package is half loaded"
            todo.append(imported)
    assert {"heapviz.heap", "heapviz.model", "heapviz.recording"} <= seen
