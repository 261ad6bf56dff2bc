"""When each open stage is due, for reviewer reminders and the portal's case list.

The deadlines are the supervision feature's (`dueprocess.services.escalations`, which escalates
missed ones as `deadline.missed`), so a reminder, the portal and an escalation agree.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from dueprocess.services.escalations import stage_deadline as supervised_deadline
from dueprocess.settings import get_ops_settings
from models.cases import DecisionCase
from models.notices import CommentWindow
from models.procedure import ProcedureDefinition
from models.stages import Stage, StageStatus


def comment_window_for(session: Session, case_id: str) -> CommentWindow | None:
    return session.exec(select(CommentWindow).where(CommentWindow.case_id == case_id)).first()


def stage_deadline(
    procedure: ProcedureDefinition, stage: Stage, *, case_opened_at: datetime,
) -> datetime | None:
    """When an open stage is due: the deadline `DUEPROCESS_STAGE_DEADLINE_DAYS` gives it."""
    if stage.status is not StageStatus.OPEN or stage.opened_at is None:
        return None
    due = supervised_deadline(procedure, stage, get_ops_settings(),
                              case_opened_at=case_opened_at)
    return due[0] if due else None


def open_stage_deadlines(session: Session, case: DecisionCase) -> dict[str, datetime]:
    """Deadline of every open stage of the case, in procedure order."""
    rows = {s.key: s for s in session.exec(select(Stage).where(Stage.case_id == case.id))}
    return deadlines_of(case, ProcedureDefinition.model_validate(case.procedure), rows)


def deadlines_of(case: DecisionCase, procedure: ProcedureDefinition,
                 rows: dict[str, Stage]) -> dict[str, datetime]:
    """`open_stage_deadlines` from the case's stage rows, already loaded."""
    deadlines = {}
    for key in procedure.stage_keys:
        row = rows.get(key)
        due = row and stage_deadline(procedure, row, case_opened_at=case.opened_at)
        if due:
            deadlines[key] = due
    return deadlines
