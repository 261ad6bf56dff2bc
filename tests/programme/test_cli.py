"""The programme from the command line, as residents and officials use it: a ballot
opened from a file, a voting code delivered through Apprise to the voter's channel, the
vote, the close, and the recount of the exported ballot against the published key."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from dueprocess.clock import system_now
from dueprocess.ledger import get_transparency_settings
from notifications.transport.receiver import WebhookReceiver
from tests.dueprocess.commands.test_cli import dueprocess
from tests.programme.conftest import DEPARTMENT, OFFICIAL, REPORTER, new_proposal
from tests.support import token_for

pytestmark = pytest.mark.slow


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


def test_vote_by_code_close_export_and_recount(
    tmp_path: Path, webhook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DUEPROCESS_NOTIFY_ALLOW_PRIVATE_TARGETS", "true")  # loopback receiver
    started = time.monotonic()
    assert dueprocess("programme", "proposals", "--year", "2000").returncode == 0
    startup = time.monotonic() - started  # the window must outlast three CLI calls here
    options = [new_proposal(f"Matter {i} for the ballot") for i in range(3)]
    now = system_now()
    closes = now + timedelta(seconds=10 * startup + 5)
    ballot_file = tmp_path / "ballot.json"
    ballot_file.write_text(json.dumps({
        "year": now.year, "title": "Next year's practical matters", "roll": "public",
        "choose_up_to": 2, "opens_at": (now - timedelta(minutes=1)).isoformat(),
        "closes_at": closes.isoformat(), "options": options}))
    env = {"DUEPROCESS_TOKEN": token_for(OFFICIAL)}
    opened = dueprocess("programme", "ballot-open", ballot_file, "--as", OFFICIAL, env=env)
    assert opened.returncode == 0, opened.stderr
    ballot = re.search(r"Ballot #(\d+) opened", opened.stdout)
    assert ballot, opened.stdout
    sent = dueprocess("programme", "send-code", ballot.group(1), webhook.url)
    assert sent.returncode == 0, sent.stderr
    code = re.search(r"code for ballot #\d+: (\d+-\d{8})", webhook.accepted[-1]["message"])
    assert code, webhook.accepted
    voted = dueprocess("programme", "vote", ballot.group(1), "--code", code.group(1),
                       "--choice", str(options[1]))
    assert voted.returncode == 0, voted.stderr

    time.sleep(max(0.0, (closes - system_now()).total_seconds()) + 0.5)
    closed = dueprocess("programme", "ballot-close", ballot.group(1), "--as", OFFICIAL, env=env)
    assert closed.returncode == 0, closed.stderr
    assert f"proposal #{options[1]}: 1" in closed.stdout
    export = tmp_path / "export"
    assert dueprocess("programme", "export-ballot", ballot.group(1), export).returncode == 0
    key = get_transparency_settings().publication_dir / "public-key.pem"
    recounted = dueprocess("programme", "recount", export, "--trusted-key", key)
    assert recounted.returncode == 0, recounted.stderr
    assert "1 votes recounted, equal to the published tally" in recounted.stdout


def test_an_item_its_milestone_and_progress_from_files(tmp_path: Path,
                                                      decided_case: str) -> None:
    item_file = tmp_path / "item.yaml"
    item_file.write_text(f"case_id: {decided_case}\ntitle: Parking meters\n"
                         f"department: {DEPARTMENT}\nlevel: street\n")
    env = {"DUEPROCESS_TOKEN": token_for(OFFICIAL)}
    bad = dueprocess("implementation", "item-add", item_file, "--as", OFFICIAL, env=env)
    assert bad.returncode != 0 and "street: required for a street-level item" in bad.stderr
    item_file.write_text(f"case_id: {decided_case}\ntitle: Parking meters\n"
                         f"department: {DEPARTMENT}\nlevel: district\n")
    added = dueprocess("implementation", "item-add", item_file, "--as", OFFICIAL, env=env)
    item = re.search(r"Item #(\d+) registered", added.stdout)
    assert item, added.stderr
    milestone_file = tmp_path / "milestone.yaml"
    milestone_file.write_text("title: Zone 1\ndue_on: 2001-01-01\n")
    early = dueprocess("implementation", "milestone", item.group(1), milestone_file, "--as",
                       OFFICIAL, env=env)
    assert early.returncode != 0 and "MILESTONE-AFTER-ITEM" in early.stderr
    assert "due_on: 2001-01-01 is before the item was registered" in early.stderr
    progress_file = tmp_path / "progress.yaml"
    progress_file.write_text("text: Zone 1 surveyed\npercent: 130\n")
    wrong = dueprocess("implementation", "progress", item.group(1), progress_file, "--as", REPORTER,
                       env={"DUEPROCESS_TOKEN": token_for(REPORTER)})
    assert wrong.returncode != 0 and "percent" in wrong.stderr
    progress_file.write_text("text: Zone 1 surveyed\npercent: 10\n")
    done = dueprocess("implementation", "progress", item.group(1), progress_file, "--as", REPORTER,
                      env={"DUEPROCESS_TOKEN": token_for(REPORTER)})
    assert done.returncode == 0, done.stderr
    shown = dueprocess("implementation", "item", item.group(1))
    assert "Parking meters" in shown.stdout and "10%" in shown.stdout
    milestone_file.write_text("title: Zone 1\ndue_on: 2099-12-31\n")
    assert dueprocess("implementation", "milestone", item.group(1), milestone_file, "--as",
                      OFFICIAL, env=env).returncode == 0
    report = dueprocess("implementation", "report", "--year", "2099", "--csv", tmp_path / "r.csv")
    assert report.returncode == 0, report.stderr
    assert f"{DEPARTMENT}," in (tmp_path / "r.csv").read_text()
    assert "recommendations: replies 2099" in report.stdout


def test_a_list_case_file_that_brings_its_own_draft_is_refused(tmp_path: Path) -> None:
    case_file = tmp_path / "list.yaml"
    case_file.write_text("- not a mapping\n")
    env = {"DUEPROCESS_TOKEN": token_for(OFFICIAL)}
    refused = dueprocess("programme", "list-open", "1", case_file, "--size", "3", env=env)
    assert refused.returncode != 0 and "expected a mapping" in refused.stderr
    case_file.write_text("opened_by: wang.fang\ndraft: {title: Mine, text: '1. Mine'}\n")
    refused = dueprocess("programme", "list-open", "999999", case_file, "--size", "3", env=env)
    assert refused.returncode != 0 and "ballot #999999 does not exist" in refused.stderr


def test_a_decisions_follow_ups_and_the_evaluations_due(decided_case: str,
                                                        tmp_path: Path) -> None:
    shown = dueprocess("implementation", "follow-ups", decided_case)
    assert shown.returncode == 0, shown.stderr
    assert "approve" in shown.stdout and "in force" in shown.stdout
    assert "requests for an evaluation: 0" in shown.stdout
    swept = dueprocess("implementation", "evaluations-due")
    assert swept.returncode == 0 and "evaluation(s) fell due" in swept.stdout
    case_file = tmp_path / "evaluation.yaml"
    case_file.write_text("opened_by: wang.fang\ntitle: Our own title\n")
    refused = dueprocess("implementation", "evaluate", decided_case, case_file,
                         env={"DUEPROCESS_TOKEN": token_for(OFFICIAL)})
    assert refused.returncode != 0 and "FOLLOW-FILE" in refused.stderr
    missing = dueprocess("implementation", "follow-ups", "dp-2099-nosuch")
    assert missing.returncode != 0 and "dp-2099-nosuch" in missing.stderr
