"""Production code imports at the top of the module, except where start-up needs otherwise.

An import inside a function is allowed only
- in a start-up module: the CLI's command modules, whose top imports stay light so that
  `dueprocess cases` and `status` start fast (`bench/cli_startup.py`), and the two flow
  modules whose loading must not import the case code (`tests/flows/test_flow_imports.py`);
- or where it says why, with `# deferred: <why>` on its line, or on the line of the first
  import of the consecutive imports it belongs to.

Imports under `if TYPE_CHECKING:` are not made at run time and are left out. The package
layout has no cycles, lazy imports counted (`tests/test_architecture.py`), so hoisting an
import never makes one.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Iterator

from tests.test_architecture import ROOT, _type_checking, module_name, source_files

MARK = "# deferred:"
# Modules (or packages) whose function-level imports are start-up's business.
START_UP = (
    "dueprocess.commands", "dueprocess.cli_kit", "notifications.cli", "portal.comments.cli",
    "programme.cli", "implementation.cli", "flows.major_decision", "flows.resume_case",
)


def _start_up(module: str) -> bool:
    return any(module == name or module.startswith(f"{name}.") for name in START_UP)


def _marked(comment: str | None) -> bool:
    return comment is not None and comment.startswith(MARK) and bool(comment[len(MARK):].strip())


def function_imports(source: str) -> Iterator[tuple[int, bool]]:
    """(line, marked) for each import inside a function, outside `if TYPE_CHECKING:`."""
    comments = {token.start[0]: token.string
                for token in tokenize.generate_tokens(io.StringIO(source).readline)
                if token.type == tokenize.COMMENT}

    def statements(body: list[ast.stmt], in_function: bool) -> Iterator[tuple[int, bool]]:
        block_marked = False  # the consecutive imports this one follows were marked
        for statement in body:
            if isinstance(statement, ast.Import | ast.ImportFrom):
                block_marked = block_marked or _marked(comments.get(statement.lineno))
                if in_function:
                    yield statement.lineno, block_marked
                continue
            block_marked = False
            if isinstance(statement, ast.If) and _type_checking(statement):
                yield from statements(statement.orelse, in_function)
            else:
                yield from inside(statement, in_function)

    def inside(node: ast.AST, in_function: bool) -> Iterator[tuple[int, bool]]:
        in_function = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for _, value in ast.iter_fields(node):
            children = value if isinstance(value, list) else [value]
            if children and all(isinstance(child, ast.stmt) for child in children):
                yield from statements(children, in_function)
            else:  # except handlers and match cases hold statements too
                for child in children:
                    if isinstance(child, ast.excepthandler | ast.match_case):
                        yield from inside(child, in_function)

    yield from statements(ast.parse(source).body, False)


def unmarked_function_imports() -> list[str]:
    found = []
    for path in source_files():
        if _start_up(module_name(path)):
            continue
        for line, marked in function_imports(path.read_text(encoding="utf-8")):
            if not marked:
                found.append(f"{path.relative_to(ROOT)}:{line}")
    return found


def test_every_import_inside_a_function_is_in_a_start_up_module_or_says_why() -> None:
    unmarked = unmarked_function_imports()
    assert unmarked == [], (
        "imports inside functions: hoist them to the module's top, or say why start-up "
        f"needs them deferred with `{MARK} <why>` on the line:\n" + "\n".join(unmarked))


def test_the_start_up_modules_exist() -> None:
    modules = {module_name(path) for path in source_files()}
    assert [name for name in START_UP if not any(
        m == name or m.startswith(f"{name}.") for m in modules)] == []


SOURCE = '''\
import os  # module level: fine
from typing import TYPE_CHECKING


def plain():
    import json
    return json


def marked():
    from prefect import flow  # deferred: Prefect costs the CLI 1 s
    from prefect.events import emit_event

    from models import cases
    text = "# deferred: in a string, not a comment"
    import yaml  # a comment that gives no reason
    return flow, emit_event, cases, text, yaml


def empty_reason():
    import jinja2  # deferred:
    return jinja2


def typed():
    if TYPE_CHECKING:
        from models.cases import DecisionCase
    else:
        import csv
    return csv


class Holder:
    import math  # a class body is not a function

    def method(self):
        try:
            pass
        except ImportError:
            import zlib
        def inner():
            import gzip  # deferred: nested, and marked
            return gzip
        return zlib, inner
'''


def test_the_check_finds_unmarked_imports_in_functions_only() -> None:
    lines = SOURCE.splitlines()
    unmarked = [lines[line - 1].strip() for line, marked in function_imports(SOURCE)
                if not marked]
    assert unmarked == ["import json", "import yaml  # a comment that gives no reason",
                        "import jinja2  # deferred:", "import csv", "import zlib"]
    assert [lines[line - 1].strip().split("  #")[0] for line, marked in
            function_imports(SOURCE) if marked] == [
        "from prefect import flow", "from prefect.events import emit_event",
        "from models import cases", "import gzip"]
