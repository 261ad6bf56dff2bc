"""A person shown as the author of a comment they did not send reports it from the
comment's page, and an official decides with reasons; both are stored append-only and
logged, and the page shows the outcome (ACUS Recommendation 2021-1)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from dueprocess.db import session_scope
from dueprocess.errors import Refused
from dueprocess.ledger import verify_log
from models.ledger import LogLeaf
from models.notices import AttributionReport
from portal.comments.attribution import decide_misattribution, report_misattribution
from portal.comments.submission import CommentCreate, submit_comment
from tests.portal.test_comments_cli import dueprocess
from tests.support import token_for

STATEMENT = "I never wrote this; someone used my name without asking me."


def logged(case_id: str, kind: str) -> list[dict[str, object]]:
    with session_scope() as session:
        records = session.exec(select(LogLeaf.record).where(LogLeaf.case_id == case_id)
                               .order_by(col(LogLeaf.case_seq))).all()
    return [r for r in map(json.loads, records) if r.get("event") == kind]


def test_the_person_named_reports_and_an_official_decides(consulting_case: str,
                                                          client: TestClient) -> None:
    receipt = submit_comment(case_id=consulting_case, client="198.51.100.7", comment=CommentCreate(
        body="我支持把高峰时段停车费提高到每小时20元。", author="王芳")).receipt_number
    page = f"/cases/{consulting_case}/comments/{receipt}"
    shown = client.get(f"{page}?lang=en").text
    assert "王芳" in shown and 'id="attribution-form"' in shown

    def report(**fields: str) -> Any:
        return client.post(f"{page}/attribution?lang=en", follow_redirects=False,
                           data={"name": "王芳", "statement": STATEMENT, "confirm": "yes",
                                 **fields})

    wrong_name = report(name="李雷")
    assert wrong_name.status_code == 400 and "ATTR-NAMED" in wrong_name.text
    assert "name: only the person the comment is shown as sent by" in wrong_name.text
    unconfirmed = report(confirm="")
    assert unconfirmed.status_code == 400 and "confirm" in unconfirmed.text
    assert logged(consulting_case, "comment.attribution_reported") == []  # nothing stored

    sent = report(name=" 王 芳 ")  # the name as shown, spacing aside
    assert sent.status_code == 303
    assert "reported on" in client.get(f"{page}?lang=en").text
    again = report()
    assert again.status_code == 400 and "ATTR-ONE-OPEN" in again.text
    [record] = logged(consulting_case, "comment.attribution_reported")
    with session_scope() as session:
        [stored] = session.exec(select(AttributionReport).where(
            AttributionReport.case_id == consulting_case)).all()
    assert (stored.name, stored.statement) == ("王 芳", STATEMENT)
    assert "198.51.100.7" not in stored.client_digest and record["digest"]

    bad = dueprocess("comments", "attribution", str(stored.id), "maybe", "--reason", "x",
                     "--as", "li.wei", as_="li.wei")
    assert bad.returncode != 0 and "outcome: 'maybe' is not one of upheld, rejected" \
        in bad.stderr + bad.stdout and "reason:" in bad.stderr + bad.stdout
    decided = dueprocess("comments", "attribution", str(stored.id), "upheld", "--reason",
                         "The sender's address is not Wang Fang's; she confirmed by phone.",
                         "--as", "li.wei", as_="li.wei")
    assert decided.returncode == 0, decided.stderr
    assert f"Attribution report #{stored.id}: upheld, logged" in decided.stdout
    [outcome] = logged(consulting_case, "comment.attribution_decided")
    assert outcome["person"] == "li.wei" and outcome["body"] == {
        "receipt": receipt, "report": stored.id, "outcome": "upheld"}
    assert "did not send it" in client.get(f"{page}?lang=en").text
    assert "并非其署名人本人提交" in client.get(f"{page}?lang=zh-CN").text
    with pytest.raises(Refused, match="already has its outcome"):
        decide_misattribution(report_id=stored.id or 0, outcome="rejected",
                              reason="A second look at the same report.", decided_by="li.wei",
                              token=token_for("li.wei"))
    # The comment is still there, as received, and still counted.
    assert "我支持把高峰时段停车费提高" in client.get(page).text
    verify_log()  # the comment counts in its batch and its reports' snapshots agree


def test_a_comment_with_no_author_is_attributed_to_no_one(consulting_case: str) -> None:
    receipt = submit_comment(case_id=consulting_case, client="198.51.100.8",
                             comment=CommentCreate(body="公交线路应当优化。")).receipt_number
    with pytest.raises(Refused, match=r"ATTR-NAMED.*shows no author"):
        report_misattribution(case_id=consulting_case, receipt_number=receipt, name="王芳",
                              statement=STATEMENT, confirm=True, client="198.51.100.8")
