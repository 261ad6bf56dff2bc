"""The package layout holds: no import cycles, and each role imports only the roles below it.

Every import counts, at module level or inside a function (a lazy import is still a
dependency), except those under `if TYPE_CHECKING:`. Importing `a.b.c` also runs the
package `a.b`; those implicit edges are left out, or every package that re-exports its
own modules would be a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("dueprocess", "flows", "tasks", "models", "notifications", "deployments",
            "ledger", "portal", "programme")

# Lower layers never import higher ones (a module may import its own layer).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("dueprocess.commands", "dueprocess.demo"),
    ("dueprocess.stack",),
    ("dueprocess.orchestration",),
    ("dueprocess.services", "dueprocess.ledger"),
    ("dueprocess.rules",),
)
# What the plain-Python layers may not import at all.
FORBIDDEN = {
    "dueprocess.rules": ("prefect", "sqlmodel", "sqlalchemy", "dueprocess.db"),
    "dueprocess.services": ("prefect",),
    "ledger": ("prefect", "sqlmodel", "sqlalchemy", "dueprocess", "models"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imported_names(tree: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """Every module name an import statement names (a `from x import y` gives x and x.y)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)
        stack.extend(ast.iter_child_nodes(node))


def import_graph() -> dict[str, set[str]]:
    files = {module_name(path): path for path in source_files()}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = set(imported_names(tree, module, path.name == "__init__.py"))
        # `from pkg import mod` names the module; `from mod import func` names only mod
        targets = {name for name in names if name in files}
        graph[module] = {
            target for target in targets
            if target != module and not (f"{target}." in f"{module}." and
                                         module.startswith(f"{target}."))
        }
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(f"{prefix}.")


def layer_of(module: str) -> int | None:
    for level, prefixes in enumerate(LAYERS):
        if any(_within(module, prefix) for prefix in prefixes):
            return level
    return None


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_layers_import_only_downwards() -> None:
    wrong = []
    for module, targets in import_graph().items():
        level = layer_of(module)
        for target in targets:
            target_level = layer_of(target)
            if level is not None and target_level is not None and target_level < level:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_plain_layers_stay_plain(layer: str) -> None:
    wrong = []
    for path in source_files():
        module = module_name(path)
        if not _within(module, layer):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name in imported_names(tree, module, path.name == "__init__.py"):
            if any(_within(name, banned) for banned in FORBIDDEN[layer]):
                wrong.append(f"{module} imports {name}")
    assert sorted(set(wrong)) == []
