"""What `dueprocess status` and `cases` show: each stage, and why it is blocked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, func, select

from dueprocess.db import session_scope
from dueprocess.rules import evaluate_gate
from dueprocess.rules.engine import Unmet
from dueprocess.services.case_clock import case_now, is_simulated
from dueprocess.services.case_snapshot import load_facts
from dueprocess.services.cases import get_case
from dueprocess.services.gate_waits import latest_wait
from dueprocess.services.notice_status import FailedNotice, failed_notices
from models.cases import DecisionCase
from models.decisions import Decision
from models.evidence import EvidenceItem, GateWait, Refusal
from models.stages import StageStatus


@dataclass(frozen=True)
class StageView:
    key: str
    title: str
    articles: str
    status: StageStatus
    opened_at: datetime | None
    completed_at: datetime | None
    evidence_count: int
    blocked: list[Unmet]


@dataclass(frozen=True)
class CaseView:
    case: DecisionCase
    stages: list[StageView]
    decision: Decision | None
    waiting: GateWait | None
    refusals: list[Refusal]
    failed_notices: list[FailedNotice] = field(default_factory=list)
    simulated: bool = False  # the case runs on simulated time (demo, tests)
    now: datetime | None = None  # the case time the gates were judged at


def case_view(case_id: str, *, now: datetime | None = None, refusals: int = 5) -> CaseView:
    with session_scope() as session:
        case = get_case(session, case_id)
        now = now or case_now(session, case_id)
        simulated = is_simulated(session, case_id)
        facts = load_facts(session, case)
        counts = dict(session.exec(
            select(EvidenceItem.stage_key, func.count())
            .where(EvidenceItem.case_id == case_id).group_by(EvidenceItem.stage_key)
        ).all())
        stages = []
        for stage in facts.procedure.stages:
            state = facts.stages[stage.key]
            blocked = (
                [] if state.status is StageStatus.COMPLETED
                else list(evaluate_gate(facts, stage.key, now).unmet)
            )
            stages.append(StageView(
                key=stage.key, title=stage.title, articles=stage.articles, status=state.status,
                opened_at=state.opened_at, completed_at=state.completed_at,
                evidence_count=counts.get(stage.key, 0), blocked=blocked,
            ))
        decision = session.exec(select(Decision).where(Decision.case_id == case_id)).first()
        wait = latest_wait(session, case_id)
        recent = list(session.exec(
            select(Refusal).where(Refusal.case_id == case_id)
            .order_by(col(Refusal.id).desc()).limit(refusals)
        ))
        return CaseView(case, stages, decision,
                        wait if wait is not None and wait.consumed_at is None else None, recent,
                        failed_notices(session, case_id), simulated=simulated, now=now)
