"""Loading a flow costs Prefect's import and little more: every served or worker process
imports the flow modules, most of them only to register or dispatch a run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CASE_CODE = ("sqlalchemy", "sqlmodel", "dueprocess", "models", "tasks", "jinja2",
             "cryptography", "apprise")


@pytest.mark.parametrize("flow_module", ["flows.major_decision", "flows.resume_case"])
def test_loading_a_flow_imports_none_of_the_case_code(flow_module: str) -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", f"import json, sys, {flow_module}; "
         "print(json.dumps(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True,
    )
    modules = json.loads(loaded.stdout.splitlines()[-1])
    assert flow_module in modules
    assert [m for m in modules if m.split(".")[0] in CASE_CODE] == []
