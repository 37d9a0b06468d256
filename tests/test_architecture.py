"""The layout shows the architecture: no import circles, and the product never imports the research side
(only the `train` and `evaluate` commands may), read from the source itself, lazy imports included."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
RESEARCH = ("storyscore.training", "storyscore.datasets")
RESEARCH_COMMANDS = ("storyscore.cli.train", "storyscore.cli.evaluate", "storyscore.cli._labelled")


def _modules() -> dict[str, Path]:
    out = {}
    for f in (SRC / "storyscore").rglob("*.py"):
        name = ".".join(f.relative_to(SRC).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = f
    return out


def import_graph() -> dict[str, set[str]]:
    """Module → the storyscore modules it imports anywhere in its body."""
    mods = _modules()

    def owner(name: str) -> str:
        while name not in mods and "." in name:
            name = name.rsplit(".", 1)[0]
        return name

    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {owner(a.name) for a in node.names if a.name.startswith("storyscore")}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("storyscore"):
                module = node.module or ""
                found |= {f"{module}.{a.name}" if f"{module}.{a.name}" in mods else owner(module) for a in node.names}
        graph[name] = found - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_graph_is_read() -> None:
    graph = import_graph()
    assert "storyscore.training.trainer" in graph["storyscore.training.experiment"]  # the reader sees lazy imports
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def test_no_import_circles() -> None:
    assert cycles(import_graph()) == []


def test_the_product_never_imports_the_research_side() -> None:
    leaks = {name: sorted(m for m in imported if m.startswith(RESEARCH))
             for name, imported in import_graph().items()
             if not name.startswith(RESEARCH) and name not in RESEARCH_COMMANDS}
    assert {k: v for k, v in leaks.items() if v} == {}


def test_search_does_not_reach_into_the_planner_and_sql_stays_in_the_store() -> None:
    graph = import_graph()
    assert not {m for m in graph["storyscore.library.search"] if m.startswith("storyscore.soundtrack")}
    for name, path in _modules().items():
        if name != "storyscore.library.store":
            source = path.read_text(encoding="utf-8")
            assert ".conn.execute(" not in source and "sqlite3.connect(" not in source, name
