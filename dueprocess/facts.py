"""Build the rule engine's snapshot of a case from the database."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, select

from dueprocess.payloads import canonical_sha256
from dueprocess.rules.facts import CaseFacts, EvidenceFact, StageFacts
from models.cases import DecisionCase, DraftVersion
from models.evidence import EvidenceItem
from models.people import Assignment, Person
from models.procedure import ProcedureDefinition
from models.stages import Stage


def stored_evidence(procedure: ProcedureDefinition, item: EvidenceItem) -> BaseModel | None:
    """The evidence model of a stored item, or None when the row no longer matches its hash
    or its schema (a row edited outside dueprocess)."""
    if canonical_sha256(item.payload) != item.payload_sha256:
        return None
    kind = procedure.stage(item.stage_key).stage_kind
    fields = {k: v for k, v in item.payload.items() if k != "documents"}
    try:
        return kind.evidence.model_validate(fields)
    except ValidationError:
        return None


def load_facts(session: Session, case: DecisionCase) -> CaseFacts:
    procedure = ProcedureDefinition.model_validate(case.procedure)
    stages = {
        s.key: StageFacts(s.status, s.opened_at, s.completed_at)
        for s in session.exec(select(Stage).where(Stage.case_id == case.id))
    }
    items = session.exec(
        select(EvidenceItem).where(EvidenceItem.case_id == case.id).order_by(col(EvidenceItem.id))
    )
    evidence = tuple(
        EvidenceFact(
            id=item.id or 0, stage_key=item.stage_key,
            evidence=stored_evidence(procedure, item), recorded_by=item.recorded_by,
            recorded_at=item.recorded_at, draft_version=item.draft_version,
        )
        for item in items
    )
    assignments: dict[str, set[str]] = {}
    rows = session.exec(
        select(Assignment.stage_key, Person.handle)
        .join(Person, col(Person.id) == col(Assignment.person_id))
        .where(Assignment.case_id == case.id)
    )
    for stage_key, handle in rows:
        assignments.setdefault(stage_key, set()).add(handle)
    draft_version = max(
        session.exec(select(DraftVersion.version).where(DraftVersion.case_id == case.id)),
        default=1,
    )
    return CaseFacts(
        case_id=case.id, procedure=procedure, stages=stages, evidence=evidence,
        assignments={k: frozenset(v) for k, v in assignments.items()},
        draft_version=draft_version,
    )
