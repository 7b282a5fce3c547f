"""The import graph of the package: one direction, no circles.

Read from the source with :mod:`ast` (every ``import`` and ``from ... import``, including
those inside functions), so the checks hold whatever is imported at run time. Imports
under ``if TYPE_CHECKING:`` count for circles but not for the direction of the flow.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "landaulab"

#: Which top-level parts of landaulab each part may import (besides itself and the shared
#: foundations: errors, estimate, serialize, late_time, design, files, version). The flow:
#: spec → execute → store → analyze/dynamics → report; studies and the faces
#: (cli, api, the root package) orchestrate.
FOUNDATIONS = {"errors", "estimate", "serialize", "late_time", "design", "files", "version"}
ALLOWED: dict[str, set[str]] = {
    "specs": set(),
    "datasets": set(),
    "store": set(),
    "spec": {"specs", "tasks", "store"},
    "train": {"record"},
    "record": {"spec", "store"},
    "tasks": {"record", "train"},
    "execute": {"record", "spec", "store", "tasks", "train"},
    "analyze": set(),
    "dynamics": set(),
    "report": {"analyze", "dynamics"},
    "study": {"analyze", "dynamics", "execute", "report", "spec", "specs", "store", "tasks", "api"},
    "watch": {"analyze", "dynamics", "report", "store"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                for inner in ast.walk(child):
                    if hasattr(inner, "lineno"):
                        lines.add(inner.lineno)
    return lines


def _imports(type_only: bool = False) -> dict[str, set[str]]:
    """Module → the landaulab modules it imports (run-time imports, plus the type-only
    ones under ``if TYPE_CHECKING:`` when ``type_only``)."""
    graph: dict[str, set[str]] = defaultdict(set)
    modules = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = set() if type_only else _type_checking_lines(tree)
        graph[name]
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module]
                # ``from landaulab.x import y`` may import the submodule x.y
                targets += [f"{node.module}.{a.name}" for a in node.names]
            for target in targets:
                if target.startswith("landaulab") and target in modules and target != name:
                    graph[name].add(target)
    return graph


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


GRAPH = _imports()
TYPED_GRAPH = _imports(type_only=True)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan 1972)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Module imports where a subpackage's ``__init__`` re-exporting its own modules is
    folded away: ``landaulab.analyze`` → ``landaulab.analyze.api`` is not an arrow back."""
    folded: dict[str, set[str]] = defaultdict(set)
    for source, targets in graph.items():
        for target in targets:
            if source != "landaulab" and target.startswith(source + "."):
                continue  # a package importing its own modules
            folded[source].add(target)
    return folded


def test_the_import_graph_was_read() -> None:
    assert "landaulab.analyze.api" in GRAPH
    assert "landaulab.analyze.frame" in GRAPH["landaulab.analyze.api"]


def test_no_import_circles() -> None:
    """Not even through type-only imports: a circle there still ties the modules together."""
    cycles = _cycles(_package_graph(TYPED_GRAPH))
    assert not cycles, "import circles: " + "; ".join(" → ".join(c) for c in cycles)


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_imports_flow_one_way(part: str) -> None:
    allowed = ALLOWED[part] | FOUNDATIONS | {part}
    wrong = sorted(
        f"{source} imports {target}"
        for source, targets in GRAPH.items()
        if _part(source) == part
        for target in targets
        if _part(target) not in allowed
    )
    assert not wrong, "\n".join(wrong)


def test_the_report_neither_loads_nor_runs_anything() -> None:
    for path in (PACKAGE / "report").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import_module" not in text, path
        assert "except Exception" not in text, path


@pytest.mark.parametrize("part", ["analyze", "dynamics", "datasets"])
def test_statistics_never_import_torch(part: str) -> None:
    for path in (PACKAGE / part).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n == "torch" or n.startswith("torch.") for n in names), path
