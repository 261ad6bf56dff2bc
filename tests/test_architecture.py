"""The package layout holds, counting every import: the core imports no capability, a
capability reaches another only through its `public` module, nothing cycles.

Every import counts, at module level or inside a function (a lazy import is still a
dependency), except those under `if TYPE_CHECKING:`; so does an import made from a string
(`importlib.import_module`, `__import__`, Prefect's `import_object`, a `module:attribute`
or `module.function` entrypoint), whose argument must be a literal. Importing `a.b.c` also
runs the package `a.b`; those implicit edges are left out, or every package that
re-exports its own modules would be a cycle.

Roles:
- the core: `ledger` (the log's format), `models`, and `dueprocess` (rules, services,
  ledger, orchestration, the web kit, and the modules every role shares);
- the capabilities: `notifications`, `portal`, `programme`, `implementation`;
- the composition root `dueprocess.composition`, which wires the capabilities in;
- the entry points: `dueprocess.commands`, `dueprocess.stack`, `dueprocess.demo`, `flows`,
  `tasks`, `deployments`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ("ledger", "models", "dueprocess")
CAPABILITIES = ("notifications", "portal", "programme", "implementation")
COMPOSITION = ("dueprocess.composition",)
ENTRY_POINTS = ("dueprocess.commands", "dueprocess.stack", "dueprocess.demo", "flows", "tasks",
                "deployments")
PACKAGES = ("dueprocess", "flows", "tasks", "models", "notifications", "deployments", "ledger",
            "portal", "programme", "implementation")
MAX_MODULES_PER_CAPABILITY = 15

# Within the core and the entry points, lower layers never import higher ones.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("dueprocess.commands", "dueprocess.demo"),
    ("dueprocess.stack",),
    ("deployments",),
    ("flows",),
    ("tasks",),
    ("dueprocess.composition",),
    ("dueprocess.orchestration", "dueprocess.web"),
    ("dueprocess.services", "dueprocess.ledger"),
    ("dueprocess.rules",),
)
# What the plain-Python layers may not import at all.
FORBIDDEN = {
    "dueprocess.rules": ("prefect", "sqlmodel", "sqlalchemy", "dueprocess.db"),
    "dueprocess.services": ("prefect",),
    "ledger": ("prefect", "sqlmodel", "sqlalchemy", "dueprocess", "models"),
}
# Imports from a computed name, each with the reason it cannot be a literal.
COMPUTED_IMPORTS = {
    "deployments.definitions": "Prefect entrypoints: each spec's literal counts as an import",
}
# Where Prefect entrypoints are written as `package.module.function`.
ENTRYPOINT_MODULES = ("deployments.definitions",)
DYNAMIC_IMPORTERS = ("import_module", "__import__", "import_object")


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int
    how: str  # "statement", "string" or "entrypoint"


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


def _called_name(node: ast.Call) -> str | None:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def _entrypoint_module(text: str, modules: set[str], *, dotted: bool) -> str | None:
    """The module of an entrypoint string: `pkg.mod:attr`, `pkg/mod.py:attr`, or (where
    `dotted`, in a module of Prefect entrypoints) `pkg.mod.attr`."""
    if ":" in text:
        path, _, attribute = text.partition(":")
        name = path.removesuffix(".py").replace("/", ".")
        return name if name in modules and attribute.isidentifier() else None
    if not dotted:
        return None
    module, _, attribute = text.rpartition(".")
    return module if module in modules and attribute.isidentifier() else None


def imported_names(tree: ast.AST, module: str, is_package: bool,
                   modules: set[str]) -> Iterator[tuple[str, int, str]]:
    """(name, line, how) for each import; a computed name gives the target '?'."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno, "statement") for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, node.lineno, "statement"
            yield from ((f"{base}.{alias.name}", node.lineno, "statement")
                        for alias in node.names)
        elif isinstance(node, ast.Call) and _called_name(node) in DYNAMIC_IMPORTERS:
            argument = node.args[0] if node.args else None
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                literal = argument.value
                yield (_entrypoint_module(literal, modules, dotted=True) or literal,
                       node.lineno, "string")
            else:
                yield "?", node.lineno, "string"
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            entry = _entrypoint_module(node.value, modules,
                                       dotted=module in ENTRYPOINT_MODULES)
            if entry is not None and entry != module:
                yield entry, node.lineno, "entrypoint"
        stack.extend(ast.iter_child_nodes(node))


def all_imports() -> list[Import]:
    files = {module_name(path): path for path in source_files()}
    modules = set(files)
    found = []
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name, line, how in imported_names(tree, module, path.name == "__init__.py",
                                              modules):
            if name == "?" or (name in files and name != module and
                               not module.startswith(f"{name}.")):
                found.append(Import(module, name, line, how))
    return found


def import_graph(imports: list[Import] | None = None) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for edge in all_imports() if imports is None else imports:
        if edge.target != "?":
            graph.setdefault(edge.source, set()).add(edge.target)
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


def role_of(module: str) -> str:
    if any(_within(module, p) for p in ENTRY_POINTS):
        return "entry point"
    if any(_within(module, p) for p in COMPOSITION):
        return "composition"
    if any(_within(module, p) for p in CAPABILITIES):
        return "capability"
    assert any(_within(module, p) for p in CORE), module
    return "core"


def capability_of(module: str) -> str | None:
    return next((c for c in CAPABILITIES if _within(module, c)), None)


def layer_of(module: str) -> int | None:
    for level, prefixes in enumerate(LAYERS):
        if any(_within(module, prefix) for prefix in prefixes):
            return level
    return None


def wrong_imports(imports: list[Import]) -> list[str]:
    """Every import against the roles' rules, as 'source:line -> target (rule)'."""
    wrong = []
    for edge in imports:
        if edge.target == "?":
            if edge.source not in COMPUTED_IMPORTS:
                wrong.append(f"{edge.source}:{edge.line} imports a computed name")
            continue
        source, target = role_of(edge.source), role_of(edge.target)
        where = f"{edge.source}:{edge.line} -> {edge.target}"
        if source == "core" and target != "core":
            wrong.append(f"{where} (the core imports no {target})")
        elif source == "capability" and target in ("composition", "entry point"):
            wrong.append(f"{where} (a capability imports no {target})")
        elif source == "capability" and target == "capability":
            own, other = capability_of(edge.source), capability_of(edge.target)
            if own != other and edge.target not in (other, f"{other}.public"):
                wrong.append(f"{where} (another capability only through {other}.public)")
        elif source == "composition" and target == "entry point":
            wrong.append(f"{where} (the composition root imports no entry point)")
        level, target_level = layer_of(edge.source), layer_of(edge.target)
        if level is not None and target_level is not None and target_level < level:
            wrong.append(f"{where} (a lower layer imports a higher one)")
    return wrong


def test_no_import_cycles_counting_imports_from_strings() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_import_keeps_to_the_roles() -> None:
    assert wrong_imports(all_imports()) == []


@pytest.mark.parametrize(("edge", "rule"), [
    (Import("dueprocess.services.case_view", "notifications.outbox", 1, "statement"),
     "the core imports no capability"),
    (Import("models.ledger", "dueprocess.composition.journal", 1, "string"),
     "the core imports no composition"),
    (Import("programme.pages", "portal.pages", 1, "statement"),
     "another capability only through portal.public"),
    (Import("implementation.items", "dueprocess.demo.run", 1, "statement"),
     "a capability imports no entry point"),
    (Import("dueprocess.rules.engine", "dueprocess.services.cases", 1, "statement"),
     "a lower layer imports a higher one"),
    (Import("dueprocess.journal", "?", 1, "string"), "imports a computed name"),
])
def test_the_rules_catch_each_kind_of_wrong_import(edge: Import, rule: str) -> None:
    assert [w for w in wrong_imports([edge]) if rule in w] != []


def test_a_capability_may_use_another_through_its_public_module() -> None:
    assert wrong_imports([Import("programme.ballots", "notifications.public", 1,
                                 "statement")]) == []


def test_imports_from_strings_are_found() -> None:
    source = ("import importlib\nimportlib.import_module('dueprocess.ledger')\n"
              "SPEC = 'flows.sign_heads:sign_heads'\nKEY = 'dueprocess.ledger.touched'\n"
              "COMPUTED = importlib.import_module(NAME)\n")
    modules = {"dueprocess.ledger", "flows.sign_heads"}
    names = {name for name, _, _ in imported_names(ast.parse(source), "models.x", False, modules)}
    assert {"dueprocess.ledger", "flows.sign_heads", "?"} <= names
    # a dotted string is an entrypoint only where entrypoints are written so
    key_only = "KEY = 'dueprocess.ledger.touched'\n"
    assert list(imported_names(ast.parse(key_only), "models.x", False, modules)) == []


@pytest.mark.parametrize("capability", CAPABILITIES)
def test_no_capability_package_holds_more_than_15_modules(capability: str) -> None:
    for folder in [ROOT / capability, *(p.parent for p in (ROOT / capability).rglob(
            "__init__.py"))]:
        modules = sorted(p.name for p in folder.glob("*.py"))
        assert len(modules) <= MAX_MODULES_PER_CAPABILITY, (folder, modules)


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_plain_layers_stay_plain(layer: str) -> None:
    modules = {module_name(path) for path in source_files()}
    wrong = []
    for path in source_files():
        module = module_name(path)
        if not _within(module, layer):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name, _, _ in imported_names(tree, module, path.name == "__init__.py", modules):
            if any(_within(name, banned) for banned in FORBIDDEN[layer]):
                wrong.append(f"{module} imports {name}")
    assert sorted(set(wrong)) == []
