"""Implementation of a decided case (Decree 713 Art. 34–35): items, milestones, progress.

An official of the case (who opened it, a member of its undertaking unit, or an
administrator) registers an item of a decided case with its responsible department and
sets its milestones; members of that department record progress with its evidence, and
a progress update may complete a milestone. Every write is authenticated, a refusal
names its rule and is audited on the item's chain, and nothing is edited afterwards.
Dates compared by the rules are the case's dates of what dueprocess recorded. The Art. 34
checks (the item's case and implementing unit, its milestones, who reports progress) are
rules of `dueprocess.rules.implementation`, listed in docs/compliance.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from dueprocess.clock import local_date
from dueprocess.db import session_scope
from dueprocess.errors import NotFound, Refused
from dueprocess.rules.implementation import (
    completion_problems,
    item_problems,
    milestone_problems,
    reporter_problems,
)
from dueprocess.services.case_clock import case_now
from dueprocess.services.cases import get_case
from dueprocess.services.identity import get_person, identity_problems, is_administrator
from dueprocess.services.refusal_audit import audited
from dueprocess.settings import get_settings
from implementation.errors import refused
from models.cases import CaseStatus, DecisionCase
from models.implementation import (
    ImplementationItem,
    ItemCreate,
    Milestone,
    MilestoneCreate,
    ProgressUpdate,
    ProgressUpdateCreate,
    SupervisionRecord,
    item_chain,
)
from models.people import Person
from models.programme import ProgrammeList, Proposal
from notifications.public import queue_item_event


def case_date(session: Session, case_id: str) -> tuple[datetime, date]:
    """The case's time now (simulated for a simulated case) and its local date."""
    now = case_now(session, case_id)
    return now, local_date(now, get_settings().case_timezone)


def _authenticated(session: Session, *, actor: str, token: str | None,
                   channel: str) -> Person:
    problems = identity_problems(session, handle=actor, token=token, channel=channel)
    if problems:
        raise Refused(problems)
    return get_person(session, actor)


def _case_official(person: Person, case: DecisionCase) -> None:
    if not (person.handle == case.opened_by or person.unit == case.undertaking_unit
            or is_administrator(person)):
        raise refused("ITEM-OFFICIAL", f"'{person.handle}' may not manage the implementation "
                      f"of case '{case.id}': only the official who opened it, a member of "
                      f"{case.undertaking_unit} or an administrator")


def register_item_as(*, request: ItemCreate, actor: str, token: str | None,
                     channel: str) -> ImplementationItem:
    """Register an implementation item of a decided case."""
    with audited(case_id=request.case_id, action="register_item", stage_key=None,
                 person=actor, channel=channel), session_scope() as session:
        person = _authenticated(session, actor=actor, token=token, channel=channel)
        case = get_case(session, request.case_id)
        _case_official(person, case)
        registered = session.exec(select(Person.id).where(
            Person.unit == request.department)).first() is not None
        problems = item_problems(case_id=case.id, decided=case.status is not CaseStatus.OPEN,
                                 department=request.department,
                                 department_registered=registered)
        if problems:
            raise Refused(problems)
        if request.proposal_id is not None and session.get(Proposal,
                                                          request.proposal_id) is None:
            raise refused("ITEM-PROPOSAL", f"proposal_id: proposal #{request.proposal_id} "
                          "does not exist")
        listed = session.exec(
            select(ProgrammeList).where(ProgrammeList.case_id == case.id)).first()
        if listed is not None and request.proposal_id not in listed.proposals:
            raise refused("ITEM-ON-LIST", f"proposal_id: an item of the list case "
                          f"'{case.id}' is one of its decided proposals "
                          f"({', '.join(f'#{p}' for p in listed.proposals)})")
        now, today = case_date(session, case.id)
        item = ImplementationItem(
            case_id=case.id, title=request.title, department=request.department,
            level=request.level.value, street=request.street,
            proposal_id=request.proposal_id, registered_by=actor, registered_at=now,
            registered_on=today)
        session.add(item)
        session.flush()
        session.expunge(item)
        return item


def get_item(session: Session, item_id: int) -> ImplementationItem:
    item = session.get(ImplementationItem, item_id)
    if item is None:
        raise NotFound(f"implementation item #{item_id} does not exist")
    return item


def add_milestone_as(*, item_id: int, request: MilestoneCreate, actor: str,
                     token: str | None, channel: str) -> Milestone:
    """Set a milestone of an item; it may not fall before the item was registered."""
    with audited(case_id=item_chain(item_id), action="add_milestone", stage_key=None,
                 person=actor, channel=channel), session_scope() as session:
        person = _authenticated(session, actor=actor, token=token, channel=channel)
        item = get_item(session, item_id)
        _case_official(person, get_case(session, item.case_id))
        problems = milestone_problems(due_on=request.due_on, registered_on=item.registered_on)
        if problems:
            raise Refused(problems)
        now, _ = case_date(session, item.case_id)
        milestone = Milestone(item_id=item_id, title=request.title, due_on=request.due_on,
                              set_by=actor, set_at=now)
        session.add(milestone)
        session.flush()
        queue_item_event(session, item=item, event="milestone_set",
                         summary=f"{milestone.title} ({milestone.due_on.isoformat()})",
                         subject_id=f"milestone-{milestone.id}", now=now)
        session.expunge(milestone)
        return milestone


def record_progress_as(*, item_id: int, request: ProgressUpdateCreate, actor: str,
                       token: str | None, channel: str) -> ProgressUpdate:
    """Record progress of an item, by a member of its responsible department; the date is
    the case's date when dueprocess records it."""
    with audited(case_id=item_chain(item_id), action="record_progress", stage_key=None,
                 person=actor, channel=channel), session_scope() as session:
        person = _authenticated(session, actor=actor, token=token, channel=channel)
        item = get_item(session, item_id)
        problems = reporter_problems(handle=actor, unit=person.unit,
                                     department=item.department, item_id=item_id,
                                     administrator=is_administrator(person))
        milestone_id = request.completes_milestone
        if milestone_id is not None:
            milestone = session.get(Milestone, milestone_id)
            problems += completion_problems(
                milestone_id=milestone_id, item_id=item_id,
                milestone_item=None if milestone is None else milestone.item_id,
                completed=bool(completed_milestones(session, [milestone_id])))
        if problems:
            raise Refused(problems)
        now, today = case_date(session, item.case_id)
        update = ProgressUpdate(
            item_id=item_id, completes_milestone=milestone_id, percent=request.percent,
            text=request.text, evidence=list(request.evidence), recorded_by=actor,
            recorded_at=now, recorded_on=today)
        session.add(update)
        session.flush()
        queue_item_event(session, item=item,
                         event="progress" if milestone_id is None else "milestone_done",
                         summary=f"{update.percent}%: {update.text}",
                         subject_id=f"progress-{update.id}", now=now)
        session.expunge(update)
        return update


def completed_milestones(session: Session, milestone_ids: list[int]) -> dict[int, date]:
    """Milestone id → the case's date its completing update was recorded."""
    rows = session.exec(select(ProgressUpdate)
                        .where(col(ProgressUpdate.completes_milestone).in_(milestone_ids)))
    return {row.completes_milestone: row.recorded_on for row in rows
            if row.completes_milestone is not None}


@dataclass(frozen=True)
class MilestoneView:
    milestone: Milestone
    completed_on: date | None
    escalated_on: date | None

    def status(self, today: date) -> str:
        if self.completed_on is not None:
            return "done late" if self.completed_on > self.milestone.due_on else "done"
        return "overdue" if today > self.milestone.due_on else "open"


@dataclass(frozen=True)
class ItemView:
    item: ImplementationItem
    today: date
    milestones: list[MilestoneView]
    updates: list[ProgressUpdate]

    @property
    def percent(self) -> int:
        return self.updates[-1].percent if self.updates else 0

    @property
    def overdue(self) -> int:
        return sum(1 for shown in self.milestones if shown.status(self.today) == "overdue")


def item_view(item_id: int) -> ItemView:
    with session_scope() as session:
        item = get_item(session, item_id)
        _, today = case_date(session, item.case_id)
        milestones = list(session.exec(select(Milestone).where(Milestone.item_id == item_id)
                                       .order_by(col(Milestone.due_on), col(Milestone.id))))
        ids = [m.id for m in milestones if m.id is not None]
        done = completed_milestones(session, ids)
        escalated = {r.milestone_id: r.detected_on for r in session.exec(
            select(SupervisionRecord).where(col(SupervisionRecord.milestone_id).in_(ids)))}
        updates = list(session.exec(select(ProgressUpdate).where(
            ProgressUpdate.item_id == item_id).order_by(col(ProgressUpdate.id))))
        session.expunge_all()
    return ItemView(item, today, [MilestoneView(m, done.get(m.id or 0), escalated.get(m.id or 0))
                                  for m in milestones], updates)


def items(*, level: str | None = None, limit: int = 200) -> list[ImplementationItem]:
    with session_scope() as session:
        query = select(ImplementationItem).order_by(col(ImplementationItem.id)).limit(limit)
        if level is not None:
            query = query.where(ImplementationItem.level == level)
        rows = list(session.exec(query))
        session.expunge_all()
        return rows
