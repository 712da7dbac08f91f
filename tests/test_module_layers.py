"""The library's import graph (issue 10): no import circles, and no module importing from a layer
above its own. Read from the source with ``ast`` (module-level and function-level imports alike),
so a lazy import inside a function counts too.

The layers, lowest first (a module may import only from its own layer or below):

0. helpers: validation, threads, kernels, categorical, symbolic;
1. semirings and the two recursions: semiring, chain, span, trees;
2. the EM loop: em;
3. the models and what wraps them (hmm, pcfg, mixture, ibm1, loglinear, priors, metrics, ...),
   and the shipped data (``emlab.data`` builds its example models, e.g. Eisner's initial HMM);
4. experiments, plots, widgets, checks (what the notebooks and the grader call).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "emlab"

LAYERS = {
    0: {"validation", "threads", "kernels", "categorical", "symbolic"},
    1: {"semiring", "chain", "span", "trees"},
    2: {"em"},
    4: {"experiments", "plots", "widgets", "checks"},
}


def top_module(path: Path) -> str:
    """The first component under ``emlab`` ("hmm" for emlab/hmm.py, "plots" for emlab/plots/x.py)."""
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def layer(name: str) -> int:
    return next((k for k, names in LAYERS.items() if name in names), 3)


def imports_of(path: Path) -> set[str]:
    """The emlab top modules that ``path`` imports (``from . import x``, ``from .x import y``,
    ``from ..x import y``, ``import emlab.x``, ``from emlab import x``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package_parts = path.relative_to(PACKAGE).parts[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:                                   # relative: resolve against the package
                base = list(package_parts[: len(package_parts) - (node.level - 1)])
                parts = base + (node.module.split(".") if node.module else [])
                if parts:
                    found.add(parts[0])
                else:                                        # from . import a, b (at the top)
                    found.update(alias.name for alias in node.names)
            elif node.module and (node.module == "emlab" or node.module.startswith("emlab.")):
                rest = node.module.split(".")[1:]
                found.update([rest[0]] if rest else [alias.name for alias in node.names])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("emlab."):
                    found.add(alias.name.split(".")[1])
    return {name.removesuffix(".py") for name in found}


@cache
def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        if path.name == "__init__.py" and path.parent == PACKAGE:
            continue                                         # the package's own index imports everything
        module = top_module(path)
        edges.setdefault(module, set()).update(imports_of(path) - {module})
    return edges


def test_the_reader_sees_the_imports_it_should():
    edges = graph()
    assert {"semiring", "threads", "validation"} <= edges["em"]
    assert {"em", "chain", "semiring", "categorical"} <= edges["hmm"]
    assert "kernels" in edges["semiring"]


def test_no_import_circles():
    edges = graph()
    state: dict[str, int] = {}

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                pytest.fail("import circle: " + " -> ".join(path + [node, nxt]))
            if nxt not in state:
                visit(nxt, path + [node])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])


@pytest.mark.parametrize("module", sorted(graph()))
def test_no_module_imports_from_a_layer_above_its_own(module):
    above = {other for other in graph()[module] if layer(other) > layer(module)}
    assert not above, f"emlab.{module} (layer {layer(module)}) imports {sorted(above)} from above"
