"""Claim, unclaim and delegate a task offered to a candidate group; each is a logged act.

A task is one open stage of a case. A person may claim it when they are a candidate (their
role or unit is one of the stage's candidate groups) or assigned by name, and it is held
by nobody; the holder may give it back (unclaim) or hand it to another candidate
(delegate). Every act publishes a journal event (`task.claimed`, `task.unclaimed`,
`task.delegated`) in the transaction that changes the holder, so the transparency log
records it. A refusal names its rule and changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_
from sqlmodel import Session, col, select

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError, Refused
from dueprocess.journal import CaseEvent, publish
from dueprocess.rules.engine import Unmet
from dueprocess.rules.permissions import assigner
from dueprocess.services.assignments import assign
from dueprocess.services.audited_actions import _acting
from dueprocess.services.cases import get_case
from models.base import utcnow
from models.cases import DecisionCase
from models.inbox_tasks import GroupKind, StageCandidate, TaskHolder
from models.people import Assignment, Person
from models.procedure import ProcedureDefinition
from models.stages import Stage, StageStatus

ARTICLE = "issue 21 (Tasklist)"


def _person(session: Session, handle: str, *, field: str) -> Person:
    person = session.exec(select(Person).where(Person.handle == handle)).first()
    if person is None or person.id is None:
        raise DueProcessError(f"{field}: no registered person '{handle}'")
    return person


def candidate_clause(person: Person) -> ColumnElement[bool]:
    """SQL: the stage row (`Stage`) is offered to a group the person belongs to."""
    groups = [and_(col(StageCandidate.kind) == GroupKind.ROLE.value,
                   col(StageCandidate.value) == person.role)]
    if person.unit:
        groups.append(and_(col(StageCandidate.kind) == GroupKind.UNIT.value,
                           col(StageCandidate.value) == person.unit))
    return exists().where(col(StageCandidate.case_id) == col(Stage.case_id),
                          col(StageCandidate.stage_key) == col(Stage.key), or_(*groups))


def assigned_clause(person: Person) -> ColumnElement[bool]:
    """SQL: the person is assigned to the stage row (`Stage`) by name."""
    return exists().where(col(Assignment.person_id) == person.id,
                          col(Assignment.case_id) == col(Stage.case_id),
                          col(Assignment.stage_key) == col(Stage.key))


def may_see(session: Session, *, person: Person, case_id: str, stage_key: str) -> bool:
    """Assigned by name, a candidate, or the holder (of any stage state: a finished task
    stays readable to the people it was theirs)."""
    holder = exists().where(col(TaskHolder.case_id) == col(Stage.case_id),
                            col(TaskHolder.stage_key) == col(Stage.key),
                            col(TaskHolder.person_id) == person.id)
    return session.exec(select(Stage.id).where(
        Stage.case_id == case_id, Stage.key == stage_key,
        or_(assigned_clause(person), candidate_clause(person), holder))).first() is not None


def holder_of(session: Session, *, case_id: str, stage_key: str) -> Person | None:
    return session.exec(select(Person).join(TaskHolder, col(TaskHolder.person_id) == Person.id)
                        .where(TaskHolder.case_id == case_id,
                               TaskHolder.stage_key == stage_key)).first()


def add_candidate_group(session: Session, *, case: DecisionCase, stage_key: str,
                        kind: GroupKind, value: str, added_by: str,
                        now: datetime) -> StageCandidate:
    """Offer a case stage to everyone with a role or in a unit (idempotent), logged."""
    if not value.strip():
        raise DueProcessError(f"group.{kind.value}: must not be empty")
    procedure = ProcedureDefinition.model_validate(case.procedure)
    if stage_key not in procedure.stage_keys:
        raise DueProcessError(f"stage: unknown stage '{stage_key}' "
                              f"(stages: {', '.join(procedure.stage_keys)})")
    existing = session.exec(select(StageCandidate).where(
        StageCandidate.case_id == case.id, StageCandidate.stage_key == stage_key,
        StageCandidate.kind == kind.value, StageCandidate.value == value)).first()
    if existing is not None:
        return existing
    row = StageCandidate(case_id=case.id, stage_key=stage_key, kind=kind.value,
                         value=value, added_by=added_by, added_at=now)
    session.add(row)
    session.flush()
    publish(session, CaseEvent(case.id, "task.candidates", now, stage_key, added_by,
                               body={"kind": kind.value, "value": value}))
    return row


def offer_to_group_as(*, case_id: str, stage_key: str, kind: GroupKind, value: str,
                      actor: str, token: str | None = None, channel: str,
                      now: datetime | None = None) -> StageCandidate:
    """Whoever may assign people to the stage (an official of the undertaking unit or the
    decision organ, or an administrator) offers it to a group; authenticated and audited
    as an assignment is."""
    now = now or utcnow()
    with _acting(case_id=case_id, action="assignment", stage_key=stage_key, actor=actor,
                 token=token, channel=channel, now=now, permission="assign people",
                 rule=assigner) as (session, case):
        return add_candidate_group(session, case=case, stage_key=stage_key, kind=kind,
                                   value=value, added_by=actor, now=now)


def _open_stage(session: Session, *, case_id: str, stage_key: str) -> None:
    stage = session.exec(select(Stage).where(Stage.case_id == case_id,
                                             Stage.key == stage_key)).first()
    if stage is None or stage.status is not StageStatus.OPEN:
        raise Refused([Unmet("CLAIM-OPEN-STAGE", ARTICLE,
                             f"stage '{stage_key}' of case {case_id} is not open: only an "
                             "open stage is a task that can be claimed or passed on")])


def _eligible(session: Session, person: Person, *, case: DecisionCase, stage_key: str) -> bool:
    """Assigned by name, or in a candidate group with the role the stage needs (a unit's
    member of another role could hold the task but never record it)."""
    procedure = ProcedureDefinition.model_validate(case.procedure)
    if stage_key not in procedure.stage_keys or procedure.stage(stage_key).role != person.role:
        return False
    return session.exec(select(Stage.id).where(
        Stage.case_id == case.id, Stage.key == stage_key,
        or_(assigned_clause(person), candidate_clause(person)))).first() is not None


def claim(*, case_id: str, stage_key: str, handle: str, now: datetime) -> TaskHolder:
    with session_scope() as session:
        case = get_case(session, case_id, lock=True)  # one act on the case's tasks at a time
        me = _person(session, handle, field="person")
        if not _eligible(session, me, case=case, stage_key=stage_key):
            raise Refused([Unmet("CLAIM-CANDIDATE", ARTICLE,
                                 f"person '{handle}' is neither assigned to stage "
                                 f"'{stage_key}' nor in one of its candidate groups with "
                                 "the stage's role")])
        _open_stage(session, case_id=case_id, stage_key=stage_key)
        holder = holder_of(session, case_id=case_id, stage_key=stage_key)
        if holder is not None:
            whose = "you hold it already" if holder.id == me.id else f"held by {holder.name}"
            raise Refused([Unmet("CLAIM-UNCLAIMED", ARTICLE,
                                 f"stage '{stage_key}' is claimed ({whose}): only an "
                                 "unclaimed task can be claimed")])
        assert me.id is not None
        row = TaskHolder(case_id=case_id, stage_key=stage_key, person_id=me.id, since=now)
        session.add(row)
        session.flush()
        publish(session, CaseEvent(case_id, "task.claimed", now, stage_key, handle,
                                   subject_id=row.id, body={"holder": handle}))
        return row


def _held_by_me(session: Session, me: Person, *, case_id: str, stage_key: str,
                act: str) -> TaskHolder:
    row = session.exec(select(TaskHolder).where(TaskHolder.case_id == case_id,
                                                TaskHolder.stage_key == stage_key)).first()
    if row is None or row.person_id != me.id:
        raise Refused([Unmet("CLAIM-HOLDER", ARTICLE,
                             f"only the person who holds stage '{stage_key}' may {act} it, "
                             f"and '{me.handle}' does not hold it")])
    return row


def unclaim(*, case_id: str, stage_key: str, handle: str, now: datetime) -> None:
    with session_scope() as session:
        get_case(session, case_id, lock=True)
        me = _person(session, handle, field="person")
        row = _held_by_me(session, me, case_id=case_id, stage_key=stage_key, act="unclaim")
        session.delete(row)
        session.flush()
        publish(session, CaseEvent(case_id, "task.unclaimed", now, stage_key, handle,
                                   body={"holder": None}))


def delegate(*, case_id: str, stage_key: str, handle: str, to: str,
             now: datetime) -> TaskHolder:
    with session_scope() as session:
        case = get_case(session, case_id, lock=True)
        me = _person(session, handle, field="person")
        target = _person(session, to, field="delegate_to")
        row = _held_by_me(session, me, case_id=case_id, stage_key=stage_key, act="delegate")
        _open_stage(session, case_id=case_id, stage_key=stage_key)
        if target.id == me.id:
            raise Refused([Unmet("DELEGATE-OTHER", ARTICLE,
                                 "delegate_to: a task is delegated to another person")])
        if not _eligible(session, target, case=case, stage_key=stage_key):
            raise Refused([Unmet("DELEGATE-CANDIDATE", ARTICLE,
                                 f"delegate_to: '{to}' is neither assigned to stage "
                                 f"'{stage_key}' nor in one of its candidate groups with "
                                 "the stage's role")])
        assert target.id is not None
        row.person_id, row.since = target.id, now
        session.add(row)
        session.flush()
        publish(session, CaseEvent(case_id, "task.delegated", now, stage_key, handle,
                                   subject_id=row.id, body={"from": handle, "holder": to}))
        return row


def assign_holder(session: Session, *, case_id: str, stage_key: str, handle: str,
                  now: datetime) -> None:
    """The holder of a claimed task becomes its assigned recorder, in the transaction that
    records their evidence: a refused recording assigns nobody, so an unclaim or a
    delegation afterwards leaves the old holder nothing."""
    holder = holder_of(session, case_id=case_id, stage_key=stage_key)
    if holder is None or holder.handle != handle:
        raise Refused([Unmet("CLAIM-HOLDER", ARTICLE,
                             f"only the person who holds stage '{stage_key}' may record it, "
                             f"and '{handle}' does not hold it")])
    assign(session, case=get_case(session, case_id), stage_key=stage_key, handle=handle,
           now=now, field="claim")
