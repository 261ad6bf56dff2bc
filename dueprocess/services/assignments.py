"""Who performs each stage of a case: assignments, experts' interest declarations and the
expert panel's composition note (Decree 713 Art. 19–20).

Assignment is per case and stage. It applies the separation of duties the rules define
for the stage (the role, an expert's declared interest or membership of the undertaking
unit, a legal reviewer from the undertaking unit): a person they exclude is not assigned.
The audited entry points for the CLI and the API are in `dueprocess.services.audited_actions`.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from dueprocess.errors import DueProcessError, Refused
from dueprocess.journal import CaseEvent, publish
from dueprocess.rules import assignment_problems
from dueprocess.rules.facts import CaseFacts
from dueprocess.services.case_snapshot import load_facts
from dueprocess.services.identity import get_person
from models.cases import DecisionCase, text_sha256
from models.people import Assignment, InterestDeclaration, InterestDeclarationCreate, PanelNote
from models.procedure import ProcedureDefinition


def _expert_stage(case: DecisionCase, stage_key: str, field: str) -> None:
    procedure = ProcedureDefinition.model_validate(case.procedure)
    if stage_key not in procedure.stage_keys:
        raise DueProcessError(f"{field}: unknown stage '{stage_key}' "
                              f"(stages: {', '.join(procedure.stage_keys)})")
    if procedure.stage(stage_key).kind != "expert_review":
        raise DueProcessError(f"{field}: stage '{stage_key}' is not an expert review")


def assign(
    session: Session, *, case: DecisionCase, stage_key: str, handle: str, now: datetime,
    field: str = "assignments", facts: CaseFacts | None = None,
) -> Assignment:
    """Assign a registered person to a case stage (idempotent); `Refused` names the rule.

    `facts`: the case snapshot, including the person, when the caller has one already."""
    procedure = ProcedureDefinition.model_validate(case.procedure)
    if stage_key not in procedure.stage_keys:
        raise DueProcessError(f"{field}: unknown stage '{stage_key}' "
                              f"(stages: {', '.join(procedure.stage_keys)})")
    stage = procedure.stage(stage_key)
    person = get_person(session, handle)
    if person.role != stage.role:
        raise DueProcessError(f"{field}.{stage_key}: '{handle}' has role '{person.role}', "
                              f"the stage needs '{stage.role}'")
    facts = facts or load_facts(session, case, also=[handle])
    problems = assignment_problems(facts, stage_key, handle)
    if problems:
        raise Refused(problems)
    existing = session.exec(select(Assignment).where(
        Assignment.case_id == case.id, Assignment.stage_key == stage_key,
        Assignment.person_id == person.id,
    )).first()
    if existing is not None:
        return existing
    assert person.id is not None
    assignment = Assignment(case_id=case.id, stage_key=stage_key, person_id=person.id,
                            assigned_at=now)
    session.add(assignment)
    session.flush()
    return assignment


def declare_interest(
    session: Session, *, case: DecisionCase, stage_key: str, handle: str,
    declaration: InterestDeclarationCreate, recorded_by: str, now: datetime,
) -> InterestDeclaration:
    _expert_stage(case, stage_key, "declaration")
    person = get_person(session, handle)
    assert person.id is not None
    row = InterestDeclaration(
        case_id=case.id, stage_key=stage_key, person_id=person.id,
        direct_interest=declaration.direct_interest, interests=declaration.interests,
        declared_on=declaration.declared_on, recorded_by=recorded_by, recorded_at=now,
    )
    session.add(row)
    session.flush()
    publish(session, CaseEvent(
        case_id=case.id, kind="interest.declared", occurred_at=now, stage_key=stage_key,
        person=recorded_by, subject_id=row.id,
        body={"expert": handle, "direct_interest": declaration.direct_interest},
    ))
    return row


def record_panel_note(
    session: Session, *, case: DecisionCase, stage_key: str, text: str, recorded_by: str,
    now: datetime,
) -> PanelNote:
    _expert_stage(case, stage_key, "panel note")
    note = PanelNote(case_id=case.id, stage_key=stage_key, text=text, sha256=text_sha256(text),
                     recorded_by=recorded_by, recorded_at=now)
    session.add(note)
    session.flush()
    publish(session, CaseEvent(
        case_id=case.id, kind="panel.note_recorded", occurred_at=now, stage_key=stage_key,
        person=recorded_by, subject_id=note.id, digest=note.sha256,
    ))
    return note
