"""The `dueprocess` console script: clear errors that name the field, never a traceback."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import yaml

from dueprocess.demo import submissions
from tests.conftest import DEMO_CASE
from tests.support import admin_token, advance_to_step, as_official, token_for

CLI = [sys.executable, "-c", "from dueprocess.commands.app import main; main()"]


def dueprocess(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *map(str, args)], capture_output=True, text=True, timeout=120,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def opened_case(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    match = re.search(r"Opened case (dp-\d{4}-[0-9a-f]{6})", result.stdout)
    assert match, result.stdout
    return match.group(1)


def test_open_list_and_status_from_a_case_file() -> None:
    case_id = opened_case(dueprocess("open", DEMO_CASE, "--no-start", env=as_official()))
    assert case_id in dueprocess("cases").stdout
    status = dueprocess("status", case_id)
    assert status.returncode == 0, status.stderr
    assert "[EVIDENCE-PRESENT," in status.stdout  # the open stages
    assert "[STAGE-ORDER," in status.stdout  # the legality review and after


def test_open_from_flags(tmp_path: Path) -> None:
    opened_case(dueprocess("open", DEMO_CASE, "--no-start", env=as_official()))
    draft = tmp_path / "draft.txt"
    draft.write_text("Article 1. Night parking is free for residents.", encoding="utf-8")
    assignments = yaml.safe_load(DEMO_CASE.read_text(encoding="utf-8"))["assignments"]
    flags = [f"--assign={stage}={','.join(handles)}" for stage, handles in assignments.items()]
    case_flags: list[str | Path] = [
        "open", "--title", "Free night parking for residents", "--organ", "Haidian Gov",
        "--undertaking-unit", "District Urban Management Commission",
        "--legal-basis", "Price Law Art. 18", "--draft-file", draft, "--opened-by", "wang.fang",
        *flags, "--no-start",
    ]
    # Art. 10: the department states the problem, its reasons and an initial plan.
    refused = dueprocess(*case_flags, env=as_official())
    assert refused.returncode == 2 and "[ST-PROPOSAL, Art. 10]" in refused.stderr
    case_id = opened_case(dueprocess(
        *case_flags, "--proposal", "Night workers pay day rates; make nights free.",
        env=as_official()))
    assert "Free night parking" in dueprocess("cases").stdout
    assert case_id


def test_open_refuses_a_case_file_naming_the_field(tmp_path: Path) -> None:
    data = yaml.safe_load(DEMO_CASE.read_text(encoding="utf-8"))
    del data["assignments"]["legality_review"]
    data["legal_basis"] = []
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = dueprocess("open", path, "--no-start", env=as_official())
    assert result.returncode == 2
    assert "legal_basis: List should have at least 1 item" in result.stderr
    assert "Traceback" not in result.stderr
    del data["legal_basis"]
    data["legal_basis"] = ["Price Law"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = dueprocess("open", path, "--no-start", env=as_official())
    assert result.returncode == 2
    assert "assignments: no one assigned to legality_review" in result.stderr


def test_open_refuses_a_bad_comment_window_naming_the_field(tmp_path: Path) -> None:
    data = yaml.safe_load(DEMO_CASE.read_text(encoding="utf-8"))
    path = tmp_path / "case.yaml"
    for window, named in (
        ({"days": 20}, "[PP-WINDOW-LENGTH, Art. 15] comment_window.shortened_reason:"),
        ({"days": 30, "shortened_reason": "Urgent"}, "comment_window.shortened_reason:"),
        ({"days": 0}, "comment_window.days:"),
        ({"days": 20, "reason": "Urgent"}, "comment_window.reason:"),
    ):
        path.write_text(yaml.safe_dump({**data, "comment_window": window}, allow_unicode=True),
                        encoding="utf-8")
        result = dueprocess("open", path, "--no-start", env=as_official())
        assert result.returncode == 2 and named in result.stderr, (window, result.stderr)
        assert "Traceback" not in result.stderr


def test_open_refuses_missing_flags() -> None:
    result = dueprocess("open", "--title", "Incomplete", "--no-start", env=as_official())
    assert result.returncode == 2
    assert "organ" in result.stderr and "Traceback" not in result.stderr


def test_record_refuses_malformed_json_and_unknown_files(tmp_path: Path) -> None:
    case_id = opened_case(dueprocess("open", DEMO_CASE, "--no-start", env=as_official()))
    broken = tmp_path / "risk.json"
    broken.write_text('{"risk_points": ["x"],', encoding="utf-8")
    result = dueprocess("record", case_id, "risk_assessment", "--file", broken,
                        "--as", "liu.yang", "--no-resume",
                        env={"DUEPROCESS_TOKEN": token_for("liu.yang")})
    assert result.returncode == 2 and "malformed JSON at line 1" in result.stderr
    result = dueprocess("record", case_id, "risk_assessment", "--file", tmp_path / "none.json",
                        "--as", "liu.yang", "--no-resume",
                        env={"DUEPROCESS_TOKEN": token_for("liu.yang")})
    assert result.returncode == 2 and "not found" in result.stderr


def test_record_refuses_a_skip_and_stores_valid_evidence(tmp_path: Path) -> None:
    case_id = opened_case(dueprocess("open", DEMO_CASE, "--no-start", env=as_official()))
    legality = tmp_path / "legality.json"
    legality.write_text(json.dumps(submissions.LEGALITY), encoding="utf-8")
    result = dueprocess("record", case_id, "legality_review", "--file", legality,
                        "--as", "sun.hao", "--no-resume",
                        env={"DUEPROCESS_TOKEN": token_for("sun.hao")})
    assert result.returncode == 2
    assert "STAGE-ORDER" in result.stderr and "public_participation" in result.stderr
    risk = tmp_path / "risk.json"
    risk.write_text(json.dumps(submissions.RISK), encoding="utf-8")
    advance_to_step(case_id, "risk_assessment")  # the case clock reaches the report's day
    result = dueprocess("record", case_id, "risk_assessment", "--file", risk,
                        "--as", "liu.yang", "--no-resume",
                        env={"DUEPROCESS_TOKEN": token_for("liu.yang")})
    assert result.returncode == 0, result.stderr
    assert re.search(r"Recorded evidence #\d+ for risk_assessment", result.stdout)


def test_unknown_case_is_named() -> None:
    result = dueprocess("status", "dp-0000-000000")
    assert result.returncode == 2
    assert "case 'dp-0000-000000' not found" in result.stderr


def test_open_needs_the_officials_token_and_registered_people(tmp_path: Path) -> None:
    refused = dueprocess("open", DEMO_CASE, "--no-start", env={"DUEPROCESS_TOKEN": ""})
    assert refused.returncode == 2 and "[AUTHENTICATED, ASVS 6.2]" in refused.stderr
    handle = f"new.{secrets.token_hex(3)}"
    data = yaml.safe_load(DEMO_CASE.read_text(encoding="utf-8"))
    data["people"].append({"handle": handle, "name": "New Assessor", "role": "risk_assessor",
                           "unit": "District Stability Office"})
    data["assignments"]["risk_assessment"] = [handle]
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    refused = dueprocess("open", path, "--no-start", env=as_official())
    assert refused.returncode == 2
    assert f"[ADMINISTRATOR, ASVS 4.1.1] 'wang.fang' may not register people ({handle})" \
        in refused.stderr
    imported = dueprocess("people", "import", path, env={"DUEPROCESS_TOKEN": admin_token()})
    assert imported.returncode == 0, imported.stderr
    assert f"Registered 1 of the {len(data['people'])} people listed" in imported.stdout
    assert opened_case(dueprocess("open", path, "--no-start", env=as_official()))
