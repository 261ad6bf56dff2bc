"""Open and look up decision cases."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlmodel import Session, col, select

from dueprocess.errors import DueProcessError, NotFound, schema_problems
from dueprocess.journal import CaseEvent, publish
from models.base import utcnow
from models.cases import CaseCreate, DecisionCase, DraftVersion
from models.people import Assignment, Person
from models.procedure import ProcedureDefinition, load_procedure
from models.stages import Stage


def new_case_id(now: datetime) -> str:
    # Lowercase letters, digits and dashes only: the id goes into Prefect pause keys.
    return f"dp-{now:%Y}-{secrets.token_hex(3)}"


def read_case_file(path: Path) -> CaseCreate:
    """Parse a YAML or JSON case file; errors name the file and the field."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DueProcessError(f"case file {path}: not found") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise DueProcessError(f"case file {path}: not valid YAML/JSON: {exc}") from None
    if not isinstance(data, dict):
        raise DueProcessError(f"case file {path}: expected a mapping of fields at the top")
    draft = data.get("draft")
    if isinstance(draft, dict) and "file" in draft and "text" not in draft:
        # The draft text may live in a file next to the case file.
        draft = dict(draft)
        draft_path = path.parent / str(draft.pop("file"))
        try:
            draft["text"] = draft_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DueProcessError(f"case file {path}: draft.file: {exc}") from None
        data = {**data, "draft": draft}
    return validate_case_request(data, source=f"case file {path}")


def validate_case_request(data: Any, *, source: str) -> CaseCreate:
    try:
        return CaseCreate.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(p.message for p in schema_problems(exc.errors()))  # type: ignore[arg-type]
        raise DueProcessError(f"{source}: {problems}") from None


def _ensure_people(session: Session, request: CaseCreate) -> dict[str, Person]:
    people: dict[str, Person] = {}
    for listed in request.people:
        existing = session.exec(select(Person).where(Person.handle == listed.handle)).first()
        if existing is None:
            existing = Person.model_validate(listed)
            session.add(existing)
        elif (existing.name, existing.role) != (listed.name, listed.role):
            # A registered person is never silently changed by a case file.
            raise DueProcessError(
                f"people: '{listed.handle}' is registered as {existing.name} "
                f"({existing.role}), not {listed.name} ({listed.role})"
            )
        people[listed.handle] = existing
    session.flush()
    return people


def _person(session: Session, people: dict[str, Person], handle: str, field: str) -> Person:
    person = people.get(handle) or session.exec(
        select(Person).where(Person.handle == handle)
    ).first()
    if person is None:
        raise DueProcessError(f"{field}: unknown person '{handle}' (list them under 'people')")
    return person


def open_case(
    session: Session, *, request: CaseCreate, procedure: ProcedureDefinition | None = None,
    now: datetime | None = None,
) -> DecisionCase:
    now = now or utcnow()
    procedure = procedure or load_procedure(request.procedure)
    people = _ensure_people(session, request)
    _person(session, people, request.opened_by, "opened_by")
    unknown_stages = sorted(set(request.assignments) - set(procedure.stage_keys))
    if unknown_stages:
        raise DueProcessError(
            f"assignments: unknown stage(s) {', '.join(unknown_stages)} for procedure "
            f"'{procedure.id}' (stages: {', '.join(procedure.stage_keys)})"
        )
    unassigned = [k for k in procedure.stage_keys if not request.assignments.get(k)]
    if unassigned:
        raise DueProcessError(f"assignments: no one assigned to {', '.join(unassigned)}")
    case = DecisionCase(
        id=new_case_id(now), title=request.title, summary=request.summary, organ=request.organ,
        undertaking_unit=request.undertaking_unit, proposal_source=request.proposal_source,
        legal_basis=request.legal_basis, procedure_id=procedure.id,
        procedure=procedure.model_dump(mode="json"), opened_by=request.opened_by, opened_at=now,
    )
    session.add(case)
    session.flush()
    session.add(DraftVersion(
        case_id=case.id, version=1, title=request.draft.title, text=request.draft.text,
        sha256=hashlib.sha256(request.draft.text.encode()).hexdigest(), created_at=now,
    ))
    for stage in procedure.stages:
        session.add(Stage(case_id=case.id, key=stage.key))
        for handle in request.assignments[stage.key]:
            person = _person(session, people, handle, f"assignments.{stage.key}")
            if person.role != stage.role:
                raise DueProcessError(
                    f"assignments.{stage.key}: '{handle}' has role '{person.role}', "
                    f"the stage needs '{stage.role}'"
                )
            assert person.id is not None
            session.add(Assignment(case_id=case.id, stage_key=stage.key, person_id=person.id))
    session.flush()
    publish(session, CaseEvent(
        case_id=case.id, kind="case.opened", occurred_at=now, person=request.opened_by,
        body={"title": case.title, "procedure_id": procedure.id, "organ": case.organ,
              "draft_sha256": hashlib.sha256(request.draft.text.encode()).hexdigest()},
    ))
    return case


def get_case(session: Session, case_id: str, *, lock: bool = False) -> DecisionCase:
    query = select(DecisionCase).where(DecisionCase.id == case_id)
    if lock:
        query = query.with_for_update()  # serialises writers per case on PostgreSQL
    case = session.exec(query).first()
    if case is None:
        raise NotFound(f"case '{case_id}' not found")
    return case


def list_cases(session: Session) -> list[DecisionCase]:
    return list(session.exec(select(DecisionCase).order_by(col(DecisionCase.opened_at).desc())))
