"""Notices are queued in the transaction of the change that causes them."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import col, select

from dueprocess.db import session_scope
from dueprocess.demo.submissions import BEIJING
from dueprocess.journal import CaseEvent, subscribe
from dueprocess.services.progress import advance, advance_case
from dueprocess.services.recording import record_evidence
from models.base import utcnow
from models.evidence import EvidenceItem
from models.notices import CommentWindow, Notice
from tests.support import VALID_STEPS, advance_to_step, token_for

# The demo's window: opened 2026-09-01 09:00, open until 24:00 Beijing time of 2026-10-01.
WINDOW_CLOSE = datetime(2026, 10, 2, tzinfo=BEIJING)

EVENTS: list[CaseEvent] = []


@subscribe
def _remember(session: object, event: CaseEvent) -> None:
    if event.kind.startswith("notice."):
        EVENTS.append(event)


def notices(case_id: str) -> list[Notice]:
    with session_scope() as session:
        return list(session.exec(
            select(Notice).where(Notice.case_id == case_id).order_by(col(Notice.id))))


def test_opening_stages_queues_the_call_and_the_assignments(case_id: str) -> None:
    advance_case(case_id=case_id)
    queued = notices(case_id)
    assert [(n.kind, n.audience, n.public) for n in queued] == [
        ("call_for_comments", [f"case-{case_id}", "public"], True),
        ("reviewer_assignment", ["reviewers-public_participation"], False),
        ("reviewer_assignment", ["reviewers-expert_review"], False),
        ("reviewer_assignment", ["reviewers-risk_assessment"], False),
    ]
    call = queued[0]
    assert "Zhongguancun" in call.subject and "10 yuan per hour" in call.body_text
    # The notice names the exact close: 24:00 Beijing time of its last published day.
    assert "征求意见期限：2026-09-01 至 2026-10-01（30日）" in call.body_text
    assert "截止时间：2026年10月1日 24:00（北京时间）" in call.body_text
    assert "截止时间</dt><dd><strong>2026年10月1日 24:00（北京时间）" in call.body_html
    with session_scope() as session:
        window = session.exec(select(CommentWindow).where(CommentWindow.case_id == case_id)).one()
    # 30 days from 2026-09-01, open until 24:00 Beijing time of 2026-10-01 (Art. 15).
    assert window.closes_at == WINDOW_CLOSE
    announced = [e for e in EVENTS if e.case_id == case_id and e.kind == "notice.queued"]
    assert [(e.subject_id, e.digest) for e in announced] == [(n.id, n.sha256) for n in queued]
    assert all("body_text" not in e.body and "subject" not in e.body for e in announced)

    advance_case(case_id=case_id)  # replayed: nothing queued twice
    assert len(notices(case_id)) == 4


def test_the_english_call_gives_the_closing_time(case_id: str) -> None:
    from dueprocess.services.cases import get_case
    from notifications.content import call_for_comments
    from notifications.render import render

    advance_case(case_id=case_id)
    with session_scope() as session:
        window = session.exec(select(CommentWindow).where(CommentWindow.case_id == case_id)).one()
        context = call_for_comments(session, get_case(session, case_id), window)
    text = render("call_for_comments", context, language="en").text
    assert "Comment period: 2026-09-01 to 2026-10-01 (30 days)" in text
    assert "Comments close: 2026-10-01 24:00 Beijing time" in text


def test_a_rolled_back_change_queues_nothing(case_id: str) -> None:
    with pytest.raises(RuntimeError), session_scope() as session:
        advance(session, case_id, utcnow())
        assert session.exec(select(Notice).where(Notice.case_id == case_id)).all()
        raise RuntimeError("the state change fails after queueing")
    assert notices(case_id) == []


def test_publication_queues_the_decision_announcement(case_id: str) -> None:
    advance_case(case_id=case_id)
    for stage, by, evidence in VALID_STEPS:
        advance_to_step(case_id, stage)  # the step's day on the case clock
        record_evidence(case_id=case_id, stage_key=stage, recorded_by=by, evidence=evidence,
                        channel="cli", token=token_for(by))
        advance_case(case_id=case_id)
    [announcement] = [n for n in notices(case_id) if n.kind == "decision_announcement"]
    assert announcement.public and announcement.audience == [
        f"case-{case_id}", "officials", "public"]
    assert "approved from 2027-01-01" in announcement.body_text
    assert "412" in announcement.body_text  # opinions received
    with session_scope() as session:
        digests = session.exec(select(EvidenceItem.payload_sha256).where(
            EvidenceItem.case_id == case_id)).all()
    assert digests and all(d in announcement.body_text and d in announcement.body_html
                           for d in digests)
    with session_scope() as session:
        window = session.exec(select(CommentWindow).where(CommentWindow.case_id == case_id)).one()
    # Completing participation never closes the window early: it closed as published.
    assert window.closed_at is None and window.closes_at == WINDOW_CLOSE


def test_reviewers_are_reminded_before_the_deadline_once(case_id: str) -> None:
    from dueprocess.services.case_clock import case_time
    from dueprocess.services.cases import get_case
    from dueprocess.services.stage_deadlines import open_stage_deadlines
    from notifications.reminders import queue_due_reminders

    advance_case(case_id=case_id)
    with session_scope() as session:
        due = open_stage_deadlines(session, get_case(session, case_id))["risk_assessment"]

    def reminded() -> list[list[str]]:
        return [n.audience for n in notices(case_id) if n.kind == "reviewer_reminder"]

    # The reminder job runs on system time; the case is judged on its simulated clock.
    due -= case_time(case_id) - utcnow()
    queue_due_reminders(now=due - timedelta(days=10))
    assert reminded() == []
    advance_to_step(case_id, "public_participation")  # the window has closed
    record_evidence(case_id=case_id, stage_key=VALID_STEPS[0][0], recorded_by=VALID_STEPS[0][1],
                    evidence=VALID_STEPS[0][2], channel="cli",
                    token=token_for(VALID_STEPS[0][1]))  # participation has evidence
    queue_due_reminders(now=due - timedelta(days=1))
    queue_due_reminders(now=due - timedelta(hours=1))  # once per stage and deadline
    assert ["reviewers-risk_assessment"] in reminded()
    assert ["reviewers-public_participation"] not in reminded()
    assert len(reminded()) == len(set(map(tuple, reminded())))


def test_a_missed_deadline_is_escalated_to_the_officials(case_id: str) -> None:
    advance_case(case_id=case_id)
    due = utcnow() - timedelta(days=1)
    event = CaseEvent(case_id=case_id, kind="deadline.missed", occurred_at=utcnow(),
                      stage_key="risk_assessment", subject_id=7,
                      body={"deadline": due.isoformat(), "escalated_to": "wang.fang"})
    for _ in range(2):  # replayed: queued once
        with session_scope() as session:
            from dueprocess.journal import publish

            publish(session, event)
    [escalation] = [n for n in notices(case_id) if n.kind == "deadline_escalation"]
    assert escalation.audience == ["officials"] and not escalation.public
    assert "风险评估" in escalation.subject  # the stage named in the notice's language
    assert due.date().isoformat() in escalation.body_text
