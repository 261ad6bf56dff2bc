"""The supervision report's part on judicial and procuratorial recommendations: per
answering department and year, how many were received, replied, replied on time and are
overdue, and the reply rate (办复率) — from what dueprocess recorded.

A recommendation counts in the year its case was opened (its receipt, witnessed). Any
procedure with a `recommendation_reply` stage counts (the bundled `recommendation-reply`
is one). Replied on time: the reply stage completed within its `reply_within_days` of the
case's opening, both witnessed, never the typed `replied_on`. Overdue: no reply and that
many days have passed on the case's clock. The department is the one the assignment
named; a recommendation not assigned yet counts under "(unassigned)".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import col, select

from dueprocess.clock import local_date, system_now
from dueprocess.db import session_scope
from dueprocess.services.case_clock import clock_offsets
from dueprocess.settings import get_settings
from implementation.report import percent, rows_csv
from models.cases import DecisionCase
from models.evidence import EvidenceItem
from models.procedure import ProcedureDefinition
from models.stages import Stage

UNASSIGNED = "(unassigned)"


@dataclass(frozen=True)
class ReplyFigures:
    department: str
    received: int
    replied: int
    replied_on_time: int
    overdue: int  # not replied, past the reply period
    reply_rate_percent: float | None
    on_time_percent: float | None


def reply_figures(*, year: int) -> list[ReplyFigures]:
    zone = get_settings().case_timezone
    with session_scope() as session:
        procedures = {case.id: (case, ProcedureDefinition.model_validate(case.procedure))
                      for case in session.exec(select(DecisionCase))}
        cases = [(case, procedure) for case, procedure in procedures.values()
                 if procedure.stages_of_kind("recommendation_reply")
                 and local_date(case.opened_at, zone).year == year]
        ids = {case.id for case, _ in cases}
        stages = {(s.case_id, s.key): s for s in session.exec(select(Stage).where(
            col(Stage.case_id).in_(ids), col(Stage.completed_at).is_not(None)))}
        assignments = {(item.case_id, item.stage_key): item.payload for item in session.exec(
            select(EvidenceItem).where(col(EvidenceItem.case_id).in_(ids))
            .order_by(col(EvidenceItem.id)))}  # the latest item of a stage wins
        offsets = clock_offsets(session, ids)
    now = system_now()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for case, procedure in cases:
        replies = procedure.stages_of_kind("recommendation_reply")
        received = local_date(case.opened_at, zone)
        assigned = next((assignments[(case.id, s.key)] for s in
                         procedure.stages_of_kind("assignment")
                         if (case.id, s.key) in assignments), {})
        days = replies[0].gate_params.due_after_opening_days() or 0
        due = received + timedelta(days=days)
        department = str(assigned.get("department") or UNASSIGNED)
        replied = stages.get((case.id, replies[0].key))
        c = counts[department]
        c["received"] += 1
        if replied is not None and replied.completed_at is not None:
            c["replied"] += 1
            c["replied_on_time"] += int(local_date(replied.completed_at, zone) <= due)
        elif local_date(now + offsets.get(case.id, timedelta(0)), zone) > due:
            c["overdue"] += 1
    return [ReplyFigures(
        department=department, received=c["received"], replied=c["replied"],
        replied_on_time=c["replied_on_time"], overdue=c["overdue"],
        reply_rate_percent=percent(c["replied"], c["received"]),
        on_time_percent=percent(c["replied_on_time"], c["replied"]))
        for department, c in sorted(counts.items())]


def reply_csv(figures: list[ReplyFigures]) -> str:
    return rows_csv(figures, ReplyFigures)
