"""The benchmarks run after a plain `pip install -e .`: every module a bench script
imports, at the top or inside a function, imports in a fresh interpreter where pytest and
the test-only helpers (tests.conftest, tests.support) cannot be imported."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BLOCKED = ("pytest", "_pytest", "tests.conftest", "tests.support")

BLOCKER = f"""
import importlib.abc, sys
class Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in {BLOCKED!r} or name.startswith(("pytest.", "_pytest.")):
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked: not installed)")
        return None
sys.meta_path.insert(0, Blocked())
"""


def imported_by(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module)
    return modules


def check(modules: list[str]) -> subprocess.CompletedProcess[str]:
    code = BLOCKER + "".join(f"import {module}\n" for module in modules)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def test_the_blocker_blocks() -> None:
    result = check(["tests.support"])
    assert result.returncode != 0 and "blocked: not installed" in result.stderr


def test_every_bench_script_and_what_it_imports_needs_no_pytest() -> None:
    scripts = sorted((ROOT / "bench").glob("*.py"))
    assert len(scripts) > 5
    modules = {f"bench.{script.stem}" for script in scripts if script.stem != "__init__"}
    for script in scripts:
        modules |= {m for m in imported_by(script) if m.split(".")[0] in {
            "bench", "tests", "dueprocess", "deployments", "flows", "tasks", "models"}}
    assert "bench._stack" in modules and "bench.decision_bench" in modules
    result = check(sorted(modules))
    assert result.returncode == 0, result.stderr[-3000:]
