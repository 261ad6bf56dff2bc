"""Notification outbox feature: queues notices in the transaction of the case event that
causes them.

A stage opening queues its reviewer assignment (and, for public participation, opens the
comment window and queues the call for comments); completing the publication stage
queues the decision announcement; a missed deadline (`deadline.missed`, from supervision)
queues the escalation to the officials, and so does an overdue implementation milestone
(`supervision.overdue`) and a decision whose evaluation fell due (`evaluation.due`). A
notice commits or rolls back with its cause.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from dueprocess.clock import comment_window_close
from dueprocess.journal import CaseEvent
from dueprocess.services.cases import get_case
from dueprocess.services.stage_deadlines import comment_window_for, stage_deadline
from dueprocess.settings import get_settings
from models.cases import DecisionCase
from models.implementation import ImplementationItem, Milestone
from models.notices import CommentWindow
from models.procedure import ProcedureDefinition
from models.stages import Stage
from notifications import content
from notifications.audiences import OFFICIALS, PUBLIC, case_tag, reviewers_tag
from notifications.followers import queue_item_event
from notifications.queue import queue_notice


def queue_notices(session: Session, event: CaseEvent) -> None:
    if event.kind == "stage.opened" and event.stage_key:
        _stage_opened(session, event, event.stage_key)
    elif event.kind == "stage.completed" and event.stage_key:
        _stage_completed(session, event, event.stage_key)
    elif event.kind == "deadline.missed" and event.stage_key:
        _deadline_missed(session, event, event.stage_key)
    elif event.kind == "comment_window.extended" and event.stage_key:
        _window_extended(session, event, event.stage_key)
    elif event.kind == "supervision.overdue":
        _milestone_overdue(session, event)
    elif event.kind == "evaluation.due":
        _evaluation_due(session, event)


def _kind(case: DecisionCase, stage_key: str) -> str:
    return ProcedureDefinition.model_validate(case.procedure).stage(stage_key).kind


def _open_comment_window(session: Session, case: DecisionCase, event: CaseEvent,
                         stage_key: str) -> CommentWindow:
    existing = comment_window_for(session, case.id)
    if existing is not None:
        return existing
    params = ProcedureDefinition.model_validate(case.procedure).stage(stage_key).gate_params
    days = int(getattr(params, "min_comment_days", 30))
    reason: str | None = None
    # A window declared in the case file was checked against the minimum at opening.
    declared = (case.initiation or {}).get("comment_window")
    if isinstance(declared, dict) and isinstance(declared.get("days"), int):
        days, reason = declared["days"], declared.get("shortened_reason") or None
    # Open until 24:00 of its last published day in the case's time zone, as the call
    # for comments says ("2026-09-01 to 2026-10-01", closing 2026-10-01 24:00).
    closes_at = comment_window_close(event.occurred_at, days, get_settings().case_timezone)
    window = CommentWindow(
        case_id=case.id, stage_key=stage_key, opens_at=event.occurred_at,
        closes_at=closes_at, shortened_reason=reason,
    )
    session.add(window)
    session.flush()
    return window


def _stage_opened(session: Session, event: CaseEvent, stage_key: str) -> None:
    case = get_case(session, event.case_id)
    kind = _kind(case, stage_key)
    if kind == "public_participation":
        window = _open_comment_window(session, case, event, stage_key)
        queue_notice(
            session, case_id=case.id, kind="call_for_comments",
            audience=[PUBLIC, case_tag(case.id)], public=True,
            context=content.call_for_comments(session, case, window),
            dedupe_key=f"{case.id}:call_for_comments:{stage_key}", now=event.occurred_at,
        )
    row = session.exec(select(Stage).where(Stage.case_id == case.id, Stage.key == stage_key)).one()
    due = stage_deadline(ProcedureDefinition.model_validate(case.procedure), row,
                         case_opened_at=case.opened_at)
    queue_notice(
        session, case_id=case.id, kind="reviewer_assignment",
        audience=[reviewers_tag(stage_key)], public=False,
        context=content.stage_notice(session, case, stage_key, due),
        dedupe_key=f"{case.id}:reviewer_assignment:{stage_key}", now=event.occurred_at,
    )


def _stage_completed(session: Session, event: CaseEvent, stage_key: str) -> None:
    case = get_case(session, event.case_id)
    # The comment window is never closed early: it closes when published (Art. 15), and
    # the participation gate cannot pass before that.
    if _kind(case, stage_key) == "publication":
        context = content.decision_announcement(session, case)
        if context is not None:
            queue_notice(
                session, case_id=case.id, kind="decision_announcement",
                audience=[PUBLIC, case_tag(case.id), OFFICIALS], public=True,
                context=context, dedupe_key=f"{case.id}:decision_announcement",
                now=event.occurred_at,
            )


def _window_extended(session: Session, event: CaseEvent, stage_key: str) -> None:
    """The window was extended: the call for comments is published again with its close."""
    case = get_case(session, event.case_id)
    window = comment_window_for(session, case.id)
    if window is None:
        return
    queue_notice(
        session, case_id=case.id, kind="call_for_comments",
        audience=[PUBLIC, case_tag(case.id)], public=True,
        context=content.call_for_comments(session, case, window),
        dedupe_key=f"{case.id}:call_for_comments:{stage_key}:until:{window.closes_at:%Y%m%d}",
        now=event.occurred_at,
    )


def _deadline_missed(session: Session, event: CaseEvent, stage_key: str) -> None:
    """The supervision feature escalated an overdue stage: tell the officials."""
    case = get_case(session, event.case_id)
    deadline = event.body.get("deadline")
    due = datetime.fromisoformat(deadline) if isinstance(deadline, str) else None
    queue_notice(
        session, case_id=case.id, kind="deadline_escalation", audience=[OFFICIALS],
        public=False, context=content.stage_notice(session, case, stage_key, due),
        dedupe_key=f"{case.id}:deadline_escalation:{stage_key}:{event.subject_id}",
        now=event.occurred_at,
    )


def _milestone_overdue(session: Session, event: CaseEvent) -> None:
    """Supervision found an implementation milestone overdue: tell the officials."""
    body = event.body
    case = get_case(session, str(body["implements"]))
    milestone = session.get(Milestone, body["milestone_id"])
    item = session.get(ImplementationItem, body["item_id"])
    if milestone is None or item is None:
        return
    queue_notice(
        session, case_id=case.id, kind="supervision_escalation", audience=[OFFICIALS],
        public=False, context={
            **content.case_context(case),
            "item": {"id": item.id, "title": item.title, "department": item.department,
                     "url": content.item_url(item.id or 0)},
            "milestone": {"title": milestone.title, "due_on": milestone.due_on.isoformat()},
        },
        dedupe_key=f"{case.id}:supervision_escalation:{event.subject_id}",
        now=event.occurred_at,
    )
    queue_item_event(session, item=item, event="escalation",
                     summary=f"{milestone.title} ({milestone.due_on.isoformat()})",
                     subject_id=f"overdue-{event.subject_id}", now=event.occurred_at)


def _evaluation_due(session: Session, event: CaseEvent) -> None:
    """A decision's evaluation fell due (Art. 36): tell the officials."""
    case = get_case(session, str(event.body["evaluates"]))
    queue_notice(
        session, case_id=case.id, kind="evaluation_due", audience=[OFFICIALS], public=False,
        context={**content.case_context(case), "reason": event.body.get("reason"),
                 "requests": event.body.get("requests"),
                 "evaluation_url": content.evaluation_url(case.id)},
        dedupe_key=f"{case.id}:evaluation_due:{event.subject_id}", now=event.occurred_at,
    )
