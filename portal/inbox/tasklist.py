"""A person's task list, from one indexed SQL query, with counts per saved filter.

A task is an open stage of a case that is not closed and that the person is assigned to
by name, is a candidate for (their role or unit is one of its candidate groups), or
holds. The one query starts from the union of those three indexed paths
(`ix_assignment_person`, `ix_stagecandidate_group`, `ix_taskholder_person_id`), joins the
stage rows, their cases and holders, and carries each procedure version's frozen JSON
once; deadlines are then computed from it as everywhere else
(`dueprocess.services.stage_deadlines`), so the inbox and an escalation agree. Counts of
the saved filters are taken over that one list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from typing import cast as cast_to

from sqlalchemy import case, func, tuple_, union
from sqlalchemy import select as columns
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from dueprocess.errors import DueProcessError
from dueprocess.services.stage_deadlines import stage_deadline
from models.cases import CaseStatus, DecisionCase
from models.inbox_tasks import GroupKind, SavedFilter, StageCandidate, TaskHolder
from models.people import Assignment, Person
from models.procedure import ProcedureDefinition
from models.stages import Stage, StageStatus

PAGE = 200  # rows shown; the counts are over every task


@dataclass(frozen=True)
class Task:
    case_id: str
    case_title: str
    stage_key: str
    stage_kind: str
    stage_title: str
    articles: str
    due: datetime | None
    overdue: bool
    holder: str | None  # handle of who holds it
    holder_name: str | None


@dataclass(frozen=True)
class Criteria:
    """What a saved filter selects; empty criteria select everything."""

    case_id: str = ""
    stage_key: str = ""
    due_before: datetime | None = None
    overdue_only: bool = False

    def matches(self, task: Task) -> bool:
        return ((not self.case_id or task.case_id == self.case_id)
                and (not self.stage_key or task.stage_key == self.stage_key)
                and (self.due_before is None
                     or (task.due is not None and task.due < _aware(self.due_before)))
                and (not self.overdue_only or task.overdue))


@dataclass(frozen=True)
class FilterCount:
    id: int
    name: str
    count: int
    criteria: Criteria


@dataclass(frozen=True)
class TaskList:
    tasks: list[Task]  # the shown page of the selected filter
    total: int  # tasks of the selected filter
    overdue: int  # of the selected filter
    everything: int  # all the person's tasks
    filters: list[FilterCount]
    selected: int | None


@dataclass(frozen=True)
class _OpenStage:
    """What a deadline reads of a stage row (an ORM row costs 0.15 ms to build)."""

    key: str
    opened_at: datetime | None
    status: StageStatus = StageStatus.OPEN


def _aware(moment: datetime) -> datetime:
    """Stored times are UTC; SQLite hands them back naive."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _mine(person: Person) -> Any:
    """The (case, stage) pairs offered to the person, each path by its own index."""
    groups = [(GroupKind.ROLE.value, person.role)] + (
        [(GroupKind.UNIT.value, person.unit)] if person.unit else [])
    return union(
        columns(col(Assignment.case_id), col(Assignment.stage_key))
        .where(col(Assignment.person_id) == person.id),
        columns(col(StageCandidate.case_id), col(StageCandidate.stage_key))
        .where(tuple_(col(StageCandidate.kind), col(StageCandidate.value)).in_(groups)),
        columns(col(TaskHolder.case_id), col(TaskHolder.stage_key))
        .where(col(TaskHolder.person_id) == person.id),
    ).subquery("mine")


def task_rows(session: Session, person: Person) -> list[Any]:
    """The one query: every open task of the person, with its case and holder."""
    holder = aliased(Person)
    frozen = aliased(DecisionCase)  # read only for a version's first row: rows stay narrow
    mine = _mine(person)
    # The frozen procedure (kilobytes of JSON) comes once per procedure version, not per
    # row: decoding it per row cost a third of a millisecond each, and comparing whole
    # copies in the database a sort of megabytes. A version names one procedure file.
    copy = (col(DecisionCase.procedure_id),
            col(DecisionCase.procedure)["version"].as_integer())
    first = func.row_number().over(partition_by=copy, order_by=col(Stage.id)) == 1
    number = func.dense_rank().over(order_by=copy)  # which copy, as a small number
    return list(session.execute(
        columns(col(Stage.case_id), col(Stage.key), col(Stage.opened_at),
                col(DecisionCase.title), col(DecisionCase.opened_at),
                case((first, columns(col(frozen.procedure)).where(
                    col(frozen.id) == col(Stage.case_id)).scalar_subquery()), else_=None),
                number, col(holder.handle), col(holder.name))
        .select_from(mine)
        .join(Stage, (col(Stage.case_id) == mine.c[0]) & (col(Stage.key) == mine.c[1]))
        .join(DecisionCase, col(DecisionCase.id) == col(Stage.case_id))
        .outerjoin(TaskHolder, (col(TaskHolder.case_id) == col(Stage.case_id))
                   & (col(TaskHolder.stage_key) == col(Stage.key)))
        .outerjoin(holder, col(holder.id) == col(TaskHolder.person_id))
        .where(col(Stage.status) == StageStatus.OPEN,
               col(DecisionCase.status) != CaseStatus.CLOSED)
    ).all())


def _tasks(rows: list[Any], now: datetime) -> list[Task]:
    # A frozen procedure is a copy of one procedure file's version: validate each distinct
    # copy once (an equal dict compares in microseconds; validating takes a millisecond).
    procedures = {text: ProcedureDefinition.model_validate(raw)
                  for *_, raw, text, _h, _n in rows if raw is not None}
    tasks = []
    for case_id, key, opened_at, title, case_opened, _raw, text, holder, holder_name in rows:
        procedure = procedures[text]
        if key not in procedure.stage_keys:
            continue
        definition = procedure.stage(key)
        due = stage_deadline(procedure, cast_to(Stage, _OpenStage(key, opened_at)),
                             case_opened_at=case_opened)
        due = _aware(due) if due else None
        tasks.append(Task(case_id, title, key, definition.kind, definition.title,
                          definition.articles, due, due is not None and due < now,
                          holder, holder_name))
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(tasks, key=lambda t: (t.due or far, t.case_id, t.stage_key))


def criteria_of(row: SavedFilter) -> Criteria:
    return Criteria(row.case_id, row.stage_key, row.due_before, row.overdue_only)


def open_tasks(session: Session, person: Person, *, now: datetime,
               selected: int | None = None) -> TaskList:
    """The person's tasks, soonest deadline first, undated last; with the count of every
    saved filter, and only those of `selected` (a saved filter's id) listed."""
    tasks = _tasks(task_rows(session, person), now)
    saved = session.exec(select(SavedFilter).where(SavedFilter.person_id == person.id)
                         .order_by(col(SavedFilter.name))).all()
    filters = [FilterCount(f.id or 0, f.name, sum(criteria_of(f).matches(t) for t in tasks),
                           criteria_of(f)) for f in saved]
    chosen = next((f for f in filters if f.id == selected), None)
    shown = [t for t in tasks if chosen.criteria.matches(t)] if chosen else tasks
    return TaskList(shown[:PAGE], len(shown), sum(t.overdue for t in shown), len(tasks),
                    filters, chosen.id if chosen else None)


def save_filter(session: Session, person: Person, *, name: str, criteria: Criteria,
                now: datetime) -> SavedFilter:
    """Save (or replace) the person's filter of that name; bad input names the field."""
    name = name.strip()
    if not 1 <= len(name) <= 60:
        raise DueProcessError("name: a filter's name has 1 to 60 characters")
    if criteria.case_id and len(criteria.case_id) > 32:
        raise DueProcessError("case_id: a case id has at most 32 characters")
    if criteria.stage_key and len(criteria.stage_key) > 64:
        raise DueProcessError("stage_key: a stage key has at most 64 characters")
    assert person.id is not None
    row = session.exec(select(SavedFilter).where(SavedFilter.person_id == person.id,
                                                 SavedFilter.name == name)).first()
    row = row or SavedFilter(person_id=person.id, name=name, created_at=now)
    row.case_id, row.stage_key = criteria.case_id, criteria.stage_key
    row.due_before, row.overdue_only = criteria.due_before, criteria.overdue_only
    session.add(row)
    session.flush()
    return row


def delete_filter(session: Session, person: Person, *, filter_id: int) -> bool:
    row = session.get(SavedFilter, filter_id)
    if row is None or row.person_id != person.id:
        return False
    session.delete(row)
    return True
