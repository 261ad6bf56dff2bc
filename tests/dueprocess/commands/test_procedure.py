"""The statutory-procedure commands: the bootstrap, credentials only from an administrator,
no write on a handle alone, the Prefect form code, revisions and the archive."""

from __future__ import annotations

import json
import re
from pathlib import Path

from dueprocess.db import session_scope
from dueprocess.demo import submissions
from models.people import Credential
from tests.conftest import DEMO_CASE
from tests.dueprocess.commands.test_cli import dueprocess, opened_case
from tests.support import advance_to_step, as_official, token_for


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_bootstrap_once_then_only_an_administrator_manages_people(tmp_path: Path) -> None:
    # A fresh case database: the bootstrap has not happened yet.
    env = {"DUEPROCESS_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
           "DUEPROCESS_DATA_DIR": str(tmp_path)}
    mallory = ["people", "add", "mallory", "--name", "Mallory", "--role", "risk_assessor"]
    refused = dueprocess(*mallory, env=env)
    assert refused.returncode == 2 and "[AUTHENTICATED, ASVS 6.2]" in refused.stderr
    first = dueprocess("init-admin", "ada.admin", "--name", "Ada", env=env)
    assert first.returncode == 0, first.stderr
    admin = last_line(first.stdout)
    assert admin.startswith("dp_") and "shown once" in first.stdout
    second = dueprocess("init-admin", "eve.admin", "--name", "Eve", env=env)
    assert second.returncode == 2 and "[BOOTSTRAP-ONCE, ASVS 2.5.1]" in second.stderr
    added = dueprocess(*mallory, env={**env, "DUEPROCESS_TOKEN": admin})
    assert added.returncode == 0, added.stderr
    issued = dueprocess("credentials", "token", "mallory", env={**env, "DUEPROCESS_TOKEN": admin})
    assert issued.returncode == 0, issued.stderr
    mallory_token = last_line(issued.stdout)
    # Mallory may not mint a token for the administrator, nor register people.
    for args in (["credentials", "token", "ada.admin"],
                 ["people", "add", "trudy", "--name", "Trudy", "--role", "expert"]):
        result = dueprocess(*args, env={**env, "DUEPROCESS_TOKEN": mallory_token})
        assert result.returncode == 2
        assert "[ADMINISTRATOR, ASVS 4.1.1] 'mallory' may not" in result.stderr


def test_record_needs_the_token_and_the_form_code_is_single_use(tmp_path: Path) -> None:
    case_id = opened_case(dueprocess("open", DEMO_CASE, "--no-start", env=as_official()))
    advance_to_step(case_id, "risk_assessment")  # the case clock reaches the report's day
    evidence = tmp_path / "risk.json"
    evidence.write_text(json.dumps(submissions.RISK), encoding="utf-8")
    args: list[str | Path] = ["record", case_id, "risk_assessment", "--file", evidence,
                              "--as", "liu.yang", "--no-resume"]
    # The reported hole: a handle alone.
    refused = dueprocess(*args, env={"DUEPROCESS_TOKEN": ""})
    assert refused.returncode == 2
    assert "[AUTHENTICATED, ASVS 6.2] 'liu.yang': no credential presented" in refused.stderr
    wrong = dueprocess(*args, env={"DUEPROCESS_TOKEN": token_for("sun.hao")})
    assert wrong.returncode == 2 and "belongs to 'sun.hao'" in wrong.stderr
    code = dueprocess("form-code", case_id, "risk_assessment", "--file", evidence,
                      env={"DUEPROCESS_TOKEN": token_for("liu.yang")})
    assert code.returncode == 0, code.stderr
    assert last_line(code.stdout).startswith("fc_")
    with session_scope() as session:
        assert last_line(code.stdout) not in str(session.exec(
            __import__("sqlmodel").select(Credential)).all())
    no_token = dueprocess("form-code", case_id, "risk_assessment", "--file", evidence,
                          env={"DUEPROCESS_TOKEN": ""})
    assert no_token.returncode == 2 and "AUTHENTICATED" in no_token.stderr
    recorded = dueprocess(*args, env={"DUEPROCESS_TOKEN": token_for("liu.yang")})
    assert recorded.returncode == 0, recorded.stderr
    assert "Recorded evidence" in recorded.stdout


def test_a_revision_needs_the_officials_token(case_id: str, tmp_path: Path) -> None:
    draft = tmp_path / "draft.txt"
    draft.write_text("1. Peak-hour parking in zone A is charged 8 yuan per hour.\n",
                     encoding="utf-8")
    args: list[str | Path] = ["revise", case_id, "--file", draft, "--reason", "lower fee",
                              "--as", "wang.fang"]
    refused = dueprocess(*args, env={"DUEPROCESS_TOKEN": ""})
    assert refused.returncode == 2 and "AUTHENTICATED" in refused.stderr
    revised = dueprocess(*args, env={"DUEPROCESS_TOKEN": token_for("wang.fang")})
    assert revised.returncode == 0, revised.stderr
    assert re.search(r"Draft v2 of dp-\d{4}-[0-9a-f]{6} \(sha256 [0-9a-f]{64}\)", revised.stdout)
    archive = dueprocess("archive", case_id)
    assert archive.returncode == 0, archive.stderr
    digest = re.search(r"sha256 ([0-9a-f]{64})", revised.stdout).group(1)  # type: ignore[union-attr]
    assert "v2 sha256 " + digest + " by wang.fang: lower fee" in archive.stdout
