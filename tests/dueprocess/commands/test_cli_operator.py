"""The CLI as an operator meets it: help and version, read commands that do not migrate,
and `record` that says at once when no Prefect server is reachable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, inspect

from dueprocess.demo import submissions
from dueprocess.services.progress import advance_case
from dueprocess.stack.processes import free_port
from tests.conftest import DEMO_CASE
from tests.dueprocess.commands.test_cli import opened_case
from tests.support import advance_to_step, as_official, token_for

CLI = [sys.executable, "-m", "dueprocess.commands"]


def run(*args: str | Path, env: dict[str, str] | None = None,
        drop: tuple[str, ...] = ()) -> tuple[subprocess.CompletedProcess[str], float]:
    environment = {k: v for k, v in os.environ.items() if k not in drop}
    started = time.monotonic()
    result = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True,
                            env={**environment, "COLUMNS": "100", **(env or {})})
    return result, time.monotonic() - started


def test_version_short_help_and_grouped_readable_help() -> None:
    version, _ = run("--version")
    assert version.returncode == 0 and version.stdout.startswith("dueprocess ")
    shown, _ = run("-h")
    assert shown.returncode == 0
    for panel in ("Cases: open, follow and record", "Running the stack",
                  "Transparency log and dossiers", "Procedure: people"):
        assert panel in shown.stdout, panel
    verify, _ = run("verify", "-h")
    assert "PATH..." in verify.stdout
    assert "<list[Path]>" not in verify.stdout and "<bool>" not in verify.stdout


def test_read_commands_do_not_migrate_and_name_init(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = {"DUEPROCESS_DATABASE_URL": url, "DUEPROCESS_DATA_DIR": str(tmp_path)}
    listed, _ = run("cases", env=env)
    assert listed.returncode == 2
    assert "run: dueprocess init" in listed.stderr and "Traceback" not in listed.stderr
    assert "alembic_version" not in inspect(create_engine(url)).get_table_names()
    init, _ = run("init", env=env)
    assert init.returncode == 0, init.stderr
    listed, _ = run("cases", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "Decision cases" in listed.stdout


def test_record_without_a_prefect_server_says_so_at_once(tmp_path: Path) -> None:
    case_id = opened_case(run("open", DEMO_CASE, "--no-start", env=as_official())[0])
    advance_case(case_id=case_id)  # participation opens: dueprocess publishes the window
    advance_to_step(case_id, "risk_assessment")  # it has closed; the report's day
    risk = tmp_path / "risk.json"
    risk.write_text(json.dumps(submissions.RISK), encoding="utf-8")
    _, a_read = run("cases")  # what a command costs here, now
    closed_port = f"http://127.0.0.1:{free_port()}/api"
    recorded, took = run("record", case_id, "risk_assessment", "--file", risk,
                         "--as", "liu.yang", env={"PREFECT_API_URL": closed_port,
                                                  "DUEPROCESS_TOKEN": token_for("liu.yang")})
    assert recorded.returncode == 0, recorded.stderr
    assert "Recorded evidence #" in recorded.stdout
    assert f"PREFECT_API_URL={closed_port}: the Prefect server does not answer" in \
        recorded.stdout
    assert "resume skipped" not in recorded.stdout
    assert "Still processing items" not in recorded.stdout + recorded.stderr
    # No temporary server was started (that takes a minute): about as long as a read.
    assert took < 3 * a_read + 5, (took, a_read)

    participation = tmp_path / "participation.json"
    participation.write_text(json.dumps(submissions.PARTICIPATION), encoding="utf-8")
    unset, _ = run("record", case_id, "public_participation", "--file", participation,
                   "--as", "li.wei", env={"PREFECT_HOME": str(tmp_path / "no-profile"),
                                          "DUEPROCESS_TOKEN": token_for("li.wei")},
                   drop=("PREFECT_API_URL",))
    assert unset.returncode == 0, unset.stderr
    assert "PREFECT_API_URL is not set" in unset.stdout
    # The hint is one line, whole, to be pasted.
    assert "\nexport PREFECT_API_URL=http://127.0.0.1:4200/api\n" in f"\n{unset.stdout}"
