"""docs/compliance.md maps every rule to its article and its tests, and stays true."""

from __future__ import annotations

import ast
import importlib
import re
from functools import cache
from pathlib import Path

from dueprocess.rules import RULES
from dueprocess.rules.engine import BUILTIN_RULES
from dueprocess.rules.implementation import IMPLEMENTATION_RULES
from dueprocess.rules.permissions import PERMISSIONS

ROOT = Path(__file__).resolve().parents[2]
MATRIX = ROOT / "docs" / "compliance.md"
ROW = re.compile(r"^\|(?P<article>[^|]+)\|(?P<duty>[^|]+)\|\s*`(?P<rule>[A-Z0-9-]+)`\s*\|"
                 r"\s*`(?P<tests>[^`]+)`\s*\|(?:(?P<witnessed>[^|]*)\|)?\s*$")
# Rules about a statutory period or a typed date: each names the recorded event it
# measures from in the "witnessed by" column.
PERIOD_RULES = ("PP-WINDOW-LENGTH", "PP-WINDOW-AS-PUBLISHED", "PP-WINDOW-CLOSED",
                "LR-REVIEW-PERIOD", "LR-REVISED-DRAFT", "CD-AFTER-LEGALITY-OPINION",
                "PB-AFTER-DECISION", "PB-ON-TIME", "EV-DATE-WITNESSED", "RC-REPLY-ON-TIME",
                "MILESTONE-AFTER-ITEM", "SUPERVISION-OVERDUE")
NODE = re.compile(r"^(?:(?P<path>[\w/]+\.py)::)?(?P<name>\w+)(?:\[(?P<param>[^\]]+)\])?$")


def known_rules() -> dict[str, str]:
    """Every rule id with its article: registered, engine, permission and implementation
    rules."""
    return {**{r.id: r.article for r in RULES},
            **{i: a for i, a, _ in BUILTIN_RULES}, **{i: a for i, a, _ in PERMISSIONS},
            **{i: a for i, a, _ in IMPLEMENTATION_RULES}}


@cache
def functions_in(path: str) -> frozenset[str]:
    tree = ast.parse((ROOT / "tests" / path).read_text(encoding="utf-8"))
    return frozenset(node.name for node in ast.walk(tree)
                     if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"))


def parameters(path: str, name: str) -> set[str]:
    """The values a test is parametrized with."""
    module = importlib.import_module("tests." + path.removesuffix(".py").replace("/", "."))
    marks = getattr(getattr(module, name), "pytestmark", [])
    return {str(value) for mark in marks if mark.name == "parametrize"
            for value in mark.args[1]}


def matrix_problems(text: str) -> list[str]:
    """Why the matrix is not true: missing or unknown rules, wrong articles, missing tests."""
    rules = known_rules()
    problems, seen = [], set()
    for line in text.splitlines():
        row = ROW.match(line)
        if row is None:
            continue
        rule = row["rule"]
        seen.add(rule)
        if rule in PERIOD_RULES and not (row["witnessed"] or "").strip(" —"):
            problems.append(f"{rule}: no 'witnessed by' event named")
        if rule not in rules:
            problems.append(f"row names unknown rule {rule}")
        elif row["article"].strip() != rules[rule]:
            problems.append(f"{rule}: article '{row['article'].strip()}', the rule cites "
                            f"'{rules[rule]}'")
        path = None
        for node in (n.strip() for n in row["tests"].split(";")):
            match = NODE.match(node)
            path = (match["path"] or path) if match else None
            if match is None or path is None or not (ROOT / "tests" / path).is_file():
                problems.append(f"{rule}: test '{node}' names no test module")
            elif match["name"] not in functions_in(path):
                problems.append(f"{rule}: test '{node}' does not exist")
            elif match["param"] and match["param"] not in parameters(path, match["name"]):
                problems.append(f"{rule}: test '{node}' has no case '{match['param']}'")
    problems += [f"{rule} has no row" for rule in sorted(set(rules) - seen)]
    return problems


def test_every_rule_has_a_row_naming_tests_that_exist() -> None:
    assert matrix_problems(MATRIX.read_text(encoding="utf-8")) == []


def test_the_matrix_check_finds_a_missing_row_and_a_missing_test() -> None:
    text = MATRIX.read_text(encoding="utf-8")
    without_row = "\n".join(line for line in text.splitlines() if "`PP-WINDOW-LENGTH`" not in line)
    assert matrix_problems(without_row) == ["PP-WINDOW-LENGTH has no row"]
    renamed = text.replace("test_rule_passes[LR-LAWFUL]", "test_rule_passes[LR-LAWFULL]")
    assert matrix_problems(renamed) == [
        "LR-LAWFUL: test 'test_rule_passes[LR-LAWFULL]' has no case 'LR-LAWFULL'"]
    gone = text.replace("test_unknown_stage_is_named", "test_unknown_stage_is_gone")
    assert matrix_problems(gone) == [
        "STAGE-KNOWN: test 'rules/test_engine.py::test_unknown_stage_is_gone' does not exist"]
