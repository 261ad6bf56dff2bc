"""Judicial and procuratorial recommendations: a procedure file on the same engine —
received (the case opens), assigned, replied within the file's period measured from what
dueprocess witnessed, an overdue reply escalated once, and the reply rate reported."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dueprocess.demo.submissions import BEIJING
from dueprocess.errors import Refused
from dueprocess.services.archive import case_archive
from dueprocess.services.case_clock import advance_clock_to
from dueprocess.services.escalations import escalate_missed_deadlines
from dueprocess.services.progress import advance_case
from dueprocess.services.recording import record_evidence
from implementation.reply_report import ReplyFigures, reply_figures
from models.base import utcnow
from tests.support import (
    RECOMMENDATION_DEPARTMENT,
    RECOMMENDATION_STEPS,
    recommendation_case,
    token_for,
)

ASSIGNED_ON = datetime(2026, 9, 2, 10, tzinfo=BEIJING)
REPLIED_ON = datetime(2026, 10, 20, 10, tzinfo=BEIJING)  # received 09-01: due by 10-31
ASSIGNMENT, REPLY = (evidence for _, _, evidence in RECOMMENDATION_STEPS)


def record(case_id: str, stage: str, by: str, evidence: dict[str, Any]) -> None:
    record_evidence(case_id=case_id, stage_key=stage, recorded_by=by, evidence=evidence,
                    channel="test", token=token_for(by))
    advance_case(case_id=case_id)


def assigned_case() -> str:
    case_id = recommendation_case()
    advance_case(case_id=case_id)
    advance_clock_to(case_id=case_id, moment=ASSIGNED_ON)
    record(case_id, "assignment", "wang.fang", ASSIGNMENT)
    return case_id


def figures() -> ReplyFigures:
    found = [f for f in reply_figures(year=2026) if f.department == RECOMMENDATION_DEPARTMENT]
    return found[0] if found else ReplyFigures(RECOMMENDATION_DEPARTMENT, 0, 0, 0, 0, None,
                                               None)


def test_only_the_assigned_official_replies_and_the_reply_closes_the_case(
    client: TestClient,
) -> None:
    case_id = assigned_case()
    advance_clock_to(case_id=case_id, moment=REPLIED_ON)
    # tang.yue is assigned to the stage for the bureau, but the recommendation went to zhou.kai.
    with pytest.raises(Refused) as info:
        record(case_id, "reply", "tang.yue", REPLY)
    assert [p.rule for p in info.value.problems] == ["RC-REPLY-BY-ASSIGNED"]
    with pytest.raises(Refused) as info:
        record(case_id, "reply", "zhou.kai", {**REPLY, "reasons": None})
    assert [p.rule for p in info.value.problems] == ["RC-REASONS-IF-NOT-ADOPTED"]
    record(case_id, "reply", "zhou.kai", REPLY)
    archive = case_archive(case_id)
    assert archive.decision is not None
    assert (archive.decision.outcome, archive.decision.decided_by,
            archive.decision.decided_on) == ("partly_adopted", "zhou.kai", "2026-10-20")
    assert archive.complete and archive.flags == []  # replied on time: nothing flagged
    page = client.get(f"/cases/{case_id}").text  # the public page, in Chinese by default
    assert "交办" in page and "办复" in page and "部分采纳" in page
    assert "《人民检察院检察建议工作规定》（两个月内书面回复）" in page


def test_an_overdue_reply_is_flagged_and_escalated_once_to_the_official() -> None:
    case_id = assigned_case()
    # Due by 10-31 (60 days from receipt): nothing to escalate the day before.
    advance_clock_to(case_id=case_id, moment=datetime(2026, 10, 30, 10, tzinfo=BEIJING))
    assert case_id not in {row.case_id for row in escalate_missed_deadlines(now=utcnow())}
    advance_clock_to(case_id=case_id, moment=datetime(2026, 11, 2, 10, tzinfo=BEIJING))
    escalated = [r for r in escalate_missed_deadlines(now=utcnow()) if r.case_id == case_id]
    assert [(r.stage_key, r.deadline_days, r.escalated_to) for r in escalated] == [
        ("reply", 60, "wang.fang")]
    assert [r for r in escalate_missed_deadlines() if r.case_id == case_id] == []
    # The reply still comes, late by the case's clock whatever date it types.
    record(case_id, "reply", "zhou.kai", {**REPLY, "replied_on": "2026-10-28"})
    flags = case_archive(case_id).flags
    assert [f.rule for f in flags] == ["RC-REPLY-ON-TIME"] and "2026-11-02" in str(flags[0])


def test_the_report_counts_the_reply_rate_from_witnessed_events(client: TestClient) -> None:
    before = figures()
    on_time = assigned_case()
    advance_clock_to(case_id=on_time, moment=REPLIED_ON)
    record(on_time, "reply", "zhou.kai", REPLY)
    late = assigned_case()
    advance_clock_to(case_id=late, moment=datetime(2026, 11, 5, 10, tzinfo=BEIJING))
    record(late, "reply", "zhou.kai", {**REPLY, "replied_on": "2026-10-30"})
    waiting = assigned_case()
    assert figures().overdue == before.overdue  # not due yet on its clock
    advance_clock_to(case_id=waiting, moment=datetime(2026, 11, 1, 10, tzinfo=BEIJING))
    after = figures()
    assert (after.received - before.received, after.replied - before.replied,
            after.replied_on_time - before.replied_on_time,
            after.overdue - before.overdue) == (3, 2, 1, 1)
    assert after.reply_rate_percent is not None and after.reply_rate_percent < 100
    assert not reply_figures(year=2031)
    page = client.get("/programme/report/2026?lang=en").text
    exported = client.get("/programme/report/2026/replies.csv").text
    assert "Judicial and procuratorial recommendations: replies" in page
    assert RECOMMENDATION_DEPARTMENT in page
    assert exported.startswith("department,received,replied,replied_on_time,overdue,")
    assert (f"{RECOMMENDATION_DEPARTMENT},{after.received},{after.replied},"
            f"{after.replied_on_time},{after.overdue},") in exported
