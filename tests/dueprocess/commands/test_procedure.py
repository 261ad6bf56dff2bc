"""The statutory-procedure commands: identity on the command line, revisions, the archive."""

from __future__ import annotations

import json
import re
from pathlib import Path

from dueprocess.db import session_scope
from dueprocess.demo import submissions
from dueprocess.services.identity import revoke
from models.people import Credential
from tests.dueprocess.commands.test_cli import dueprocess


def test_a_token_holder_records_with_the_token_and_revises_the_draft(
    case_id: str, tmp_path: Path,
) -> None:
    issued = dueprocess("credentials", "token", "liu.yang", "--label", "laptop")
    assert issued.returncode == 0, issued.stderr
    number = int(re.search(r"Credential #(\d+)", issued.stdout).group(1))  # type: ignore[union-attr]
    token = issued.stdout.strip().splitlines()[-1]
    try:
        with session_scope() as session:
            stored = session.get(Credential, number)
            assert stored is not None and stored.token_sha256 and token not in str(stored)
        evidence = tmp_path / "risk.json"
        evidence.write_text(json.dumps(submissions.RISK), encoding="utf-8")
        args: list[str | Path] = ["record", case_id, "risk_assessment", "--file", evidence,
                                  "--as", "liu.yang", "--no-resume"]
        refused = dueprocess(*args)
        assert refused.returncode == 2
        assert "[AUTHENTICATED, ASVS 6.2] 'liu.yang' holds an API token" in refused.stderr
        recorded = dueprocess(*args, env={"DUEPROCESS_TOKEN": token})
        assert recorded.returncode == 0, recorded.stderr
        assert "Recorded evidence" in recorded.stdout
    finally:
        with session_scope() as session:
            revoke(session, credential_id=number)
    draft = tmp_path / "draft.txt"
    draft.write_text("1. Peak-hour parking in zone A is charged 8 yuan per hour.\n",
                     encoding="utf-8")
    revised = dueprocess("revise", case_id, "--file", draft, "--reason", "lower fee",
                         "--as", "wang.fang")
    assert revised.returncode == 0, revised.stderr
    assert re.search(r"Draft v2 of dp-\d{4}-[0-9a-f]{6} \(sha256 [0-9a-f]{64}\)", revised.stdout)
    archive = dueprocess("archive", case_id)
    assert archive.returncode == 0, archive.stderr
    digest = re.search(r"sha256 ([0-9a-f]{64})", revised.stdout).group(1)  # type: ignore[union-attr]
    assert digest in archive.stdout and "superseded" in archive.stdout
    assert "v2 sha256 " + digest + " by wang.fang: lower fee" in archive.stdout
