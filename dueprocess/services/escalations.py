"""Stage deadlines: find open stages past their deadline and escalate each once.

A stage's deadline is the day it opened plus its days in `DUEPROCESS_STAGE_DEADLINE_DAYS`
(by stage key, then stage kind; see `dueprocess.settings`), unless the procedure file sets
a deadline counted from the case's opening (a recommendation's reply is due two months
after it was received, however long its assignment took). Escalating records a
`StageEscalation` row and publishes `deadline.missed` naming the responsible official
(the official who opened the case) in one transaction; the notification feature turns
the event into the escalation notice, the Prefect events feature into
`dueprocess.deadline.missed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from dueprocess.db import session_scope
from dueprocess.journal import CaseEvent, publish
from dueprocess.services.case_clock import clock_offsets
from dueprocess.settings import OpsSettings, get_ops_settings
from models.base import utcnow
from models.cases import CaseStatus, DecisionCase
from models.escalations import StageEscalation
from models.procedure import ProcedureDefinition
from models.stages import Stage, StageStatus


@dataclass(frozen=True)
class MissedDeadline:
    case_id: str
    stage_key: str
    opened_at: datetime
    deadline: datetime
    days: int
    official: str


def stage_deadline(
    procedure: ProcedureDefinition, stage: Stage, settings: OpsSettings, *,
    case_opened_at: datetime,
) -> tuple[datetime, int] | None:
    """(deadline, days) of an open stage; None for a stage that is not open."""
    if stage.status is not StageStatus.OPEN or stage.opened_at is None:
        return None
    if stage.key not in procedure.stage_keys:
        return None
    definition = procedure.stage(stage.key)
    from_opening = definition.gate_params.due_after_opening_days()
    if from_opening is not None:
        return case_opened_at + timedelta(days=from_opening), from_opening
    days = settings.deadline_days(stage.key, definition.kind)
    return stage.opened_at + timedelta(days=days), days


def missed_deadlines(
    session: Session, now: datetime, settings: OpsSettings | None = None
) -> list[MissedDeadline]:
    """Open stages past their deadline that were not escalated for this opening yet."""
    settings = settings or get_ops_settings()
    rows = session.exec(
        select(Stage, DecisionCase).join(DecisionCase, col(DecisionCase.id) == Stage.case_id)
        .where(Stage.status == StageStatus.OPEN, DecisionCase.status != CaseStatus.CLOSED)
    ).all()
    escalated = {
        (e.case_id, e.stage_key, e.stage_opened_at) for e in session.exec(
            select(StageEscalation).where(col(StageEscalation.case_id).in_(
                {case.id for _, case in rows}))
        )
    }
    offsets = clock_offsets(session, {case.id for _, case in rows})
    procedures: dict[str, ProcedureDefinition] = {}
    missed = []
    for stage, case in rows:
        procedure = procedures.get(case.id) or ProcedureDefinition.model_validate(case.procedure)
        procedures[case.id] = procedure
        due = stage_deadline(procedure, stage, settings, case_opened_at=case.opened_at)
        case_now = now + offsets.get(case.id, timedelta(0))  # a simulated case's own time
        if due is None or due[0] > case_now or stage.opened_at is None:
            continue
        if (case.id, stage.key, stage.opened_at) in escalated:
            continue
        missed.append(MissedDeadline(case.id, stage.key, stage.opened_at, due[0], due[1],
                                     case.opened_by))
    return missed


def escalate(missed: MissedDeadline, now: datetime) -> StageEscalation | None:
    """Record the escalation and publish `deadline.missed`; None if already escalated."""
    try:
        with session_scope() as session:
            row = StageEscalation(
                case_id=missed.case_id, stage_key=missed.stage_key,
                stage_opened_at=missed.opened_at, deadline=missed.deadline,
                deadline_days=missed.days, escalated_to=missed.official, detected_at=now,
            )
            session.add(row)
            session.flush()
            publish(session, CaseEvent(
                case_id=missed.case_id, kind="deadline.missed", occurred_at=now,
                stage_key=missed.stage_key, subject_id=row.id,
                body={"deadline": missed.deadline.isoformat(), "deadline_days": missed.days,
                      "opened_at": missed.opened_at.isoformat(),
                      "escalated_to": missed.official},
            ))
            return row
    except IntegrityError:
        return None  # a concurrent watchdog escalated it first


def escalate_missed_deadlines(now: datetime | None = None) -> list[StageEscalation]:
    """Escalate every open stage past its deadline, once per opening of the stage."""
    now = now or utcnow()
    with session_scope() as session:
        missed = missed_deadlines(session, now)
        offsets = clock_offsets(session, {m.case_id for m in missed})
    return [row for m in missed
            if (row := escalate(m, now + offsets.get(m.case_id, timedelta(0)))) is not None]


def escalation_lines(case_id: str) -> list[str]:
    """What `dueprocess status` shows for the case's missed deadlines of open stages."""
    with session_scope() as session:
        rows = session.exec(
            select(StageEscalation, Stage)
            .join(Stage, (col(Stage.case_id) == StageEscalation.case_id)
                  & (col(Stage.key) == StageEscalation.stage_key))
            .where(StageEscalation.case_id == case_id, Stage.status == StageStatus.OPEN)
            .order_by(col(StageEscalation.id))
        ).all()
    return [
        f"Deadline missed: {e.stage_key} was due {e.deadline:%Y-%m-%d} ({e.deadline_days} days "
        f"after it opened); escalated to {e.escalated_to} on {e.detected_at:%Y-%m-%d}"
        for e, stage in rows if stage.opened_at == e.stage_opened_at
    ]
