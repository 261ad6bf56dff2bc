"""Open and look up decision cases.

Opening a case applies the start of the procedure (Decree 713 Art. 10–13: the proposal,
the undertaking unit, the legal basis, the consultation of other units) and the
separation of duties of every assignment; a case file that breaks them is refused with
the rule and the article.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlmodel import Session, col, select

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError, NotFound, Refused, schema_problems
from dueprocess.journal import CaseEvent, publish
from dueprocess.rules import case_problems
from dueprocess.rules.engine import Unmet
from dueprocess.rules.participation import KIND as PARTICIPATION
from dueprocess.services import assignments, identity
from dueprocess.services.case_clock import simulated_time_problems, start_simulated_clock
from dueprocess.services.case_snapshot import load_facts
from dueprocess.services.payloads import load_yaml
from models.base import utcnow
from models.cases import CaseCreate, CaseStatus, DecisionCase, DraftVersion, text_sha256
from models.ledger import note_written
from models.people import Person, PersonCreate
from models.procedure import ProcedureDefinition, load_procedure
from models.stages import Stage


def new_case_id(now: datetime) -> str:
    # Lowercase letters, digits and dashes only: the id goes into Prefect pause keys.
    return f"dp-{now:%Y}-{secrets.token_hex(3)}"


def read_case_file(path: Path) -> CaseCreate:
    """Parse a YAML or JSON case file; errors name the file and the field."""
    try:
        data: Any = load_yaml(path.read_text(encoding="utf-8"), field=f"case file {path}")
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
        draft_path = _draft_file(path, draft.pop("file"))
        try:
            draft["text"] = draft_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DueProcessError(f"case file {path}: draft.file: {exc}") from None
        data = {**data, "draft": draft}
    return validate_case_request(data, source=f"case file {path}")


def _draft_file(case_file: Path, name: Any) -> Path:
    """The draft file a case file names, confined to the case file's folder.

    A case file may come from someone else: `draft.file` must not publish any file its
    reader can read (`../../etc/passwd`, an absolute path, a symlink pointing out).
    """
    where = f"case file {case_file}: draft.file"
    shown = name[:200] if isinstance(name, str) else name
    if not isinstance(name, str) or not name.strip():
        raise DueProcessError(f"{where}: expected the name of a file in the case file's folder")
    folder = case_file.parent.resolve()
    if Path(name).is_absolute():
        raise DueProcessError(f"{where}: '{shown}' is an absolute path; the draft must be a file "
                              f"in the case file's folder ({folder}) or below it")
    target = (folder / name).resolve()  # follows every symlink on the way
    if not target.is_relative_to(folder):
        raise DueProcessError(f"{where}: '{shown}' leads outside the case file's folder "
                              f"({folder}); the draft must be a file in that folder or below it "
                              "(after following symlinks)")
    if not target.is_file():
        raise DueProcessError(f"{where}: '{shown}' is not a file in the case file's folder")
    return target


def validate_case_request(data: Any, *, source: str) -> CaseCreate:
    try:
        return CaseCreate.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(p.message for p in schema_problems(exc.errors()))  # type: ignore[arg-type]
        raise DueProcessError(f"{source}: {problems}") from None


def register_person(session: Session, listed: PersonCreate) -> Person:
    """Register a person, or return the registered one if it is listed identically.

    An upsert, INSERT … ON CONFLICT DO NOTHING and then SELECT: cases opened at once that
    list the same new person all get that one person, where a SELECT-then-INSERT lets
    all but one fail on the unique handle. What is then selected is checked as before.
    """
    values: dict[str, Any] = {"handle": listed.handle, "name": listed.name,
                              "role": listed.role.value, "unit": listed.unit,
                              "expertise": listed.expertise, "created_at": utcnow()}
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        from sqlalchemy.dialects import postgresql, sqlite  # deferred: costs `status` 35 ms

        insert = (postgresql if dialect == "postgresql" else sqlite).insert
        inserted = session.connection().execute(
            insert(Person).values(**values).on_conflict_do_nothing(index_elements=["handle"])
            .returning(Person.id)
        ).scalar_one_or_none()
        if inserted is not None:  # written past the ORM: have the transparency log see it
            note_written(session, Person, inserted)
    elif session.exec(select(Person).where(Person.handle == listed.handle)).first() is None:
        session.add(Person.model_validate(values))  # another database: no upsert
        session.flush()
    existing = session.exec(select(Person).where(Person.handle == listed.handle)).one()
    expertise = listed.expertise or existing.expertise  # a file that names none says nothing
    if (existing.name, existing.role, existing.unit, existing.expertise) != (
            listed.name, listed.role, listed.unit, expertise):
        # A registered person is never silently changed by a case file.
        raise DueProcessError(
            f"people: '{listed.handle}' is registered as {existing.name} "
            f"({existing.role}, {existing.unit or 'no unit'}, "
            f"{existing.expertise or 'no field of expertise'}), not {listed.name} "
            f"({listed.role}, {listed.unit or 'no unit'}, "
            f"{expertise or 'no field of expertise'})"
        )
    if listed.public_key:
        identity.register_public_key(session, handle=listed.handle,
                                     public_key=listed.public_key, label="registration")
    return existing


def _ensure_people(session: Session, request: CaseCreate) -> dict[str, Person]:
    return {listed.handle: register_person(session, listed) for listed in request.people}


def _person(session: Session, people: dict[str, Person], handle: str, field: str) -> Person:
    person = people.get(handle) or session.exec(
        select(Person).where(Person.handle == handle)
    ).first()
    if person is None:
        raise DueProcessError(f"{field}: unknown person '{handle}' (list them under 'people')")
    return person


def _initiation(request: CaseCreate) -> dict[str, Any]:
    initiation: dict[str, Any] = {
        "proposal": request.proposal.model_dump(mode="json") if request.proposal else None,
        "consultations": [c.model_dump(mode="json") for c in request.consultations],
    }
    if request.comment_window is not None:  # absent: the procedure's minimum, as before
        initiation["comment_window"] = request.comment_window.model_dump(mode="json")
    return initiation


def _check_comment_window(*, request: CaseCreate, procedure: ProcedureDefinition) -> None:
    """A declared window is checked against the procedure before anything is stored, so a
    case never opens with a window its participation gate would refuse (Art. 15)."""
    window = request.comment_window
    if window is None:
        return
    stages = procedure.stages_of_kind(PARTICIPATION)
    if not stages:
        raise DueProcessError(f"comment_window: procedure '{procedure.id}' has no public "
                              "participation stage, so no comment window is published")
    # The window serves every participation stage: the longest minimum binds.
    minimum = max(int(getattr(s.gate_params, "min_comment_days", 30)) for s in stages)
    reason = (window.shortened_reason or "").strip()
    if window.days < minimum and not reason:
        raise Refused([Unmet(
            "PP-WINDOW-LENGTH", "Art. 15",
            f"comment_window.shortened_reason: a window of {window.days} days is shorter "
            f"than the procedure's {minimum}; give the reason, published with the call for "
            "comments",
        )])
    if window.days >= minimum and reason:
        raise DueProcessError(
            f"comment_window.shortened_reason: a window of {window.days} days is not shorter "
            f"than the procedure's {minimum}; a reason for shortening it would be published "
            "for nothing (remove it)"
        )


def _expert_panels(session: Session, case: DecisionCase, request: CaseCreate,
                   people: dict[str, Person], now: datetime) -> None:
    """Store the panels' declarations and notes, before anyone is assigned to them."""
    for stage_key, panel in request.expert_panels.items():
        for handle, declaration in panel.declarations.items():
            _person(session, people, handle, f"expert_panels.{stage_key}.declarations")
            assignments.declare_interest(
                session, case=case, stage_key=stage_key, handle=handle,
                declaration=declaration, recorded_by=request.opened_by, now=now,
            )
        if panel.composition_note:
            assignments.record_panel_note(
                session, case=case, stage_key=stage_key, text=panel.composition_note,
                recorded_by=request.opened_by, now=now,
            )


def open_case(
    session: Session, *, request: CaseCreate, procedure: ProcedureDefinition | None = None,
    now: datetime | None = None,
) -> DecisionCase:
    """Open a case; `Refused` names every broken start rule or separation of duties.

    A case file with `simulated_clock` opens on simulated time (demo and test stacks only)."""
    if request.simulated_clock is not None:
        problems = simulated_time_problems()
        if problems:
            raise Refused(problems)
        now = request.simulated_clock.starts_at
    now = now or utcnow()
    procedure = procedure or load_procedure(request.procedure)
    _check_comment_window(request=request, procedure=procedure)
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
        initiation=_initiation(request),
    )
    session.add(case)
    session.flush()
    if request.simulated_clock is not None:
        start_simulated_clock(session, case_id=case.id, starts_at=now)
    session.add(DraftVersion(
        case_id=case.id, version=1, title=request.draft.title, text=request.draft.text,
        sha256=text_sha256(request.draft.text), created_at=now, created_by=request.opened_by,
    ))
    for stage in procedure.stages:
        session.add(Stage(case_id=case.id, key=stage.key))
    session.flush()
    problems = case_problems(load_facts(session, case), now)
    if problems:
        raise Refused(problems)
    publish(session, CaseEvent(
        case_id=case.id, kind="case.opened", occurred_at=now, person=request.opened_by,
        body={"title": case.title, "procedure_id": procedure.id, "organ": case.organ,
              "draft_sha256": text_sha256(request.draft.text),
              # The log witnesses a declared window (and its reason) from the opening on.
              **({"comment_window": request.comment_window.model_dump(mode="json")}
                 if request.comment_window else {}),
              **({"clock": "simulated time"} if request.simulated_clock else {})},
    ))
    _expert_panels(session, case, request, people, now)
    assigned = {h for handles in request.assignments.values() for h in handles}
    facts = load_facts(session, case, also=assigned)
    refused: list[Unmet] = []
    for stage in procedure.stages:
        for handle in request.assignments[stage.key]:
            _person(session, people, handle, f"assignments.{stage.key}")
            try:
                assignments.assign(session, case=case, stage_key=stage.key, handle=handle,
                                   now=now, facts=facts)
            except Refused as exc:
                refused += exc.problems
    if refused:
        raise Refused(refused)
    return case


def get_case(session: Session, case_id: str, *, lock: bool = False) -> DecisionCase:
    query = select(DecisionCase).where(DecisionCase.id == case_id)
    if lock:
        query = query.with_for_update()  # serialises writers per case on PostgreSQL
    case = session.exec(query).first()
    if case is None:
        raise NotFound(f"case '{case_id}' not found")
    return case


def case_is_closed(case_id: str) -> bool:
    with session_scope() as session:
        return get_case(session, case_id).status is CaseStatus.CLOSED


def list_cases(session: Session) -> list[DecisionCase]:
    return list(session.exec(select(DecisionCase).order_by(col(DecisionCase.opened_at).desc())))
