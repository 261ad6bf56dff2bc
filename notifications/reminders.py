"""Reminders to the reviewers of a stage with no evidence yet, a few days before it is due.
Run before each delivery; queued once per stage and deadline (by its dedupe key). Once a
stage is overdue, supervision escalates it (`deadline.missed`, see `outbox`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, func, select

from dueprocess.db import session_scope
from dueprocess.services.case_clock import clock_offsets
from dueprocess.services.cases import get_case
from dueprocess.services.stage_deadlines import open_stage_deadlines
from dueprocess.settings import NotifySettings, get_notify_settings
from models.cases import CaseStatus, DecisionCase
from models.evidence import EvidenceItem
from notifications import content
from notifications.audiences import reviewers_tag
from notifications.queue import queue_notice


def queue_due_reminders(*, now: datetime, settings: NotifySettings | None = None) -> int:
    """Queue the reminders that are due at system time `now` (a simulated case is judged
    on its own clock); return how many were queued."""
    settings = settings or get_notify_settings()
    system_now = now
    with session_scope() as session:
        case_ids = list(session.exec(
            select(DecisionCase.id).where(col(DecisionCase.status) != CaseStatus.CLOSED)))
        offsets = clock_offsets(session, set(case_ids))
    queued = 0
    for case_id in case_ids:
        now = system_now + offsets.get(case_id, timedelta(0))
        with session_scope() as session:
            case = get_case(session, case_id, lock=True)
            for stage_key, due in open_stage_deadlines(session, case).items():
                recorded = session.exec(select(func.count()).select_from(EvidenceItem).where(
                    EvidenceItem.case_id == case_id, EvidenceItem.stage_key == stage_key)).one()
                if recorded or not due - timedelta(days=settings.notify_reminder_days) <= now:
                    continue
                notice = queue_notice(
                    session, case_id=case_id, kind="reviewer_reminder",
                    audience=[reviewers_tag(stage_key)], public=False,
                    context=content.stage_notice(session, case, stage_key, due),
                    dedupe_key=f"{case_id}:reviewer_reminder:{stage_key}:{due:%Y%m%d}", now=now,
                )
                queued += notice.created_at == now  # else an earlier run queued it
    return queued
