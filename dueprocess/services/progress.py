"""Move a case forward as far as its recorded evidence allows, and never further.

Every step is idempotent against the database, so a flow body rerun from the top (Prefect
suspend) or a replacement run repeats no side effect. Opening a legality review assembles
its submission package (Art. 26) and announces it with its digest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from dueprocess.db import session_scope
from dueprocess.journal import CaseEvent, publish
from dueprocess.rules import evaluate_gate, ready_stages
from dueprocess.rules.engine import Unmet
from dueprocess.rules.facts import CaseFacts
from dueprocess.rules.package import assemble_package
from dueprocess.services.case_clock import case_now
from dueprocess.services.case_snapshot import load_facts
from dueprocess.services.cases import get_case
from models.cases import CaseStatus, DecisionCase
from models.decisions import Decision
from models.evidence import GateWait
from models.evidence_schemas import DecidingEvidence
from models.stages import Stage, StageStatus


@dataclass(frozen=True)
class CaseProgress:
    case_id: str
    status: CaseStatus
    open_stages: list[str]
    blocked: dict[str, list[Unmet]] = field(default_factory=dict)
    transitions: list[str] = field(default_factory=list)

    @property
    def closed(self) -> bool:
        return self.status is CaseStatus.CLOSED


def _stage_row(session: Session, case_id: str, key: str) -> Stage:
    row = session.exec(select(Stage).where(Stage.case_id == case_id, Stage.key == key)).one()
    return row


def _record_decision(
    session: Session, case: DecisionCase, facts: CaseFacts, now: datetime
) -> Decision | None:
    if session.exec(select(Decision).where(Decision.case_id == case.id)).first() is not None:
        return None
    deciding = facts.procedure.deciding_stage.key
    [item] = facts.current_evidence(deciding)
    assert isinstance(item.evidence, DecidingEvidence)
    fields = item.evidence.decision(item.recorded_by)
    decision = Decision(
        case_id=case.id, evidence_id=item.id, outcome=fields.outcome, text=fields.text,
        decided_by=fields.decided_by, decided_on=fields.decided_on.isoformat(),
        draft_version=item.draft_version, recorded_at=now,
    )
    session.add(decision)
    case.status = CaseStatus.DECIDED
    session.add(case)
    session.flush()
    publish(session, CaseEvent(
        case_id=case.id, kind="case.decided", occurred_at=now, stage_key=deciding,
        subject_id=decision.id,
        body={"outcome": decision.outcome, "decided_by": decision.decided_by,
              "decided_on": decision.decided_on, "evidence_id": decision.evidence_id,
              "draft_version": decision.draft_version},
    ))
    return decision


def _announce_package(session: Session, case: DecisionCase, facts: CaseFacts, stage_key: str,
                      now: datetime) -> None:
    package = assemble_package(facts, stage_key)
    publish(session, CaseEvent(
        case_id=case.id, kind="legality.package_assembled", occurred_at=now,
        stage_key=stage_key, digest=package.sha256,
        body={"draft_version": package.draft.version if package.draft else None,
              "evidence": [{"stage_key": p.stage_key, "id": e.id, "sha256": e.payload_sha256}
                           for p in package.procedures for e in p.evidence]},
    ))


def advance(session: Session, case_id: str, now: datetime) -> CaseProgress:
    """Complete every open stage whose gate is open, record the decision when the deciding
    stage completes, and open every stage whose prerequisites are now completed."""
    case = get_case(session, case_id, lock=True)
    transitions: list[str] = []
    while True:
        facts = load_facts(session, case)
        passed = [k for k in facts.procedure.stage_keys
                  if facts.status(k) is StageStatus.OPEN and evaluate_gate(facts, k, now).open]
        for key in passed:
            row = _stage_row(session, case_id, key)
            row.status, row.completed_at = StageStatus.COMPLETED, now
            session.add(row)
            publish(session, CaseEvent(case_id=case_id, kind="stage.completed",
                                       occurred_at=now, stage_key=key))
            transitions.append(f"completed {key}")
        if passed:
            session.flush()
            facts = load_facts(session, case)
        deciding_done = facts.status(facts.procedure.deciding_stage.key) is StageStatus.COMPLETED
        if deciding_done and _record_decision(session, case, facts, now) is not None:
            transitions.append("decided")
        opened = ready_stages(facts)
        for key in opened:
            row = _stage_row(session, case_id, key)
            row.status, row.opened_at = StageStatus.OPEN, now
            session.add(row)
            publish(session, CaseEvent(case_id=case_id, kind="stage.opened", occurred_at=now,
                                       stage_key=key))
            transitions.append(f"opened {key}")
        session.flush()
        for key in opened:
            if facts.procedure.stage(key).kind == "legality_review":
                _announce_package(session, case, facts, key, now)
        if not (passed or opened):
            break  # `facts` is current: nothing changed since it was loaded
    if case.status is not CaseStatus.CLOSED and all(
        facts.status(k) is StageStatus.COMPLETED for k in facts.procedure.stage_keys
    ):
        case.status = CaseStatus.CLOSED
        session.add(case)
        # Nothing can be recorded any more, so no gate wait stays pending.
        for wait in session.exec(select(GateWait).where(
            GateWait.case_id == case_id, col(GateWait.consumed_at).is_(None)
        )):
            wait.consumed_at = now
            session.add(wait)
        publish(session, CaseEvent(case_id=case_id, kind="case.closed", occurred_at=now))
        transitions.append("closed")
    open_stages = [k for k in facts.procedure.stage_keys if facts.status(k) is StageStatus.OPEN]
    return CaseProgress(
        case_id=case_id, status=case.status, open_stages=open_stages,
        blocked={k: list(evaluate_gate(facts, k, now).unmet) for k in open_stages},
        transitions=transitions,
    )


def advance_case(*, case_id: str, now: datetime | None = None) -> CaseProgress:
    with session_scope() as session:
        return advance(session, case_id, now or case_now(session, case_id))
