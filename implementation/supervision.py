"""Supervision (督办) of implementation: each milestone that passed its due date without
the progress update completing it is escalated once.

Escalating writes a `SupervisionRecord` and publishes `supervision.overdue` on the item's
chain in one transaction: the notification feature queues the escalation notice to the
officials, the Prefect events feature emits `dueprocess.supervision.overdue`. The deadline
watchdog runs this sweep on its schedule. "Overdue" is measured on the case's clock (a
simulated case's own time), never on a date someone typed (rule SUPERVISION-OVERDUE,
Art. 34, of `dueprocess.rules.implementation`).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from dueprocess.clock import local_date, system_now
from dueprocess.db import session_scope
from dueprocess.journal import CaseEvent, publish
from dueprocess.rules.implementation import overdue
from dueprocess.services.case_clock import clock_offsets
from dueprocess.settings import get_settings
from implementation.items import case_date
from models.implementation import (
    ImplementationItem,
    Milestone,
    ProgressUpdate,
    SupervisionRecord,
    item_chain,
)

OVERDUE = "supervision.overdue"


def overdue_milestones() -> list[tuple[Milestone, ImplementationItem]]:
    """Milestones past due on their case's clock, neither completed nor escalated yet."""
    zone = get_settings().case_timezone
    with session_scope() as session:
        rows = list(session.exec(
            select(Milestone, ImplementationItem)
            .join(ImplementationItem, col(ImplementationItem.id) == Milestone.item_id)
            .where(col(Milestone.id).not_in(select(SupervisionRecord.milestone_id)),
                   col(Milestone.id).not_in(
                       select(ProgressUpdate.completes_milestone)
                       .where(col(ProgressUpdate.completes_milestone).is_not(None))))))
        offsets = clock_offsets(session, {item.case_id for _, item in rows})
        session.expunge_all()
    now = system_now()
    return [(milestone, item) for milestone, item in rows
            if milestone.id is not None and overdue(  # SUPERVISION-OVERDUE, Art. 34
                milestone_id=milestone.id, due_on=milestone.due_on, completed_on=None,
                today=local_date(now + offsets.get(item.case_id, timedelta(0)), zone))]


def escalate(milestone: Milestone, item: ImplementationItem) -> SupervisionRecord | None:
    """Record the supervision and publish `supervision.overdue`; None if already done."""
    assert milestone.id is not None and item.id is not None
    try:
        with session_scope() as session:
            now, today = case_date(session, item.case_id)
            record = SupervisionRecord(
                item_id=item.id, milestone_id=milestone.id, due_on=milestone.due_on,
                detected_on=today, department=item.department, detected_at=now)
            session.add(record)
            session.flush()
            publish(session, CaseEvent(
                case_id=item_chain(item.id), kind=OVERDUE, occurred_at=now,
                subject_id=record.id,
                body={"implements": item.case_id, "item_id": item.id,
                      "milestone_id": milestone.id, "due_on": milestone.due_on.isoformat(),
                      "department": item.department}))
            session.expunge(record)
            return record
    except IntegrityError:
        return None  # a concurrent sweep escalated it first


def supervise_overdue() -> list[SupervisionRecord]:
    """Escalate every overdue milestone, once each."""
    return [record for milestone, item in overdue_milestones()
            if (record := escalate(milestone, item)) is not None]
