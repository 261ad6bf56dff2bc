"""Inbox work management: candidate groups of a stage, who holds (has claimed) a task,
and each person's saved filters.

A stage may be offered to a candidate group (a role or a unit) instead of, or besides, named
people; a member claims it, and only the holder (or a person assigned by name) records it.
`TaskHolder` is the current holder only: every claim, unclaim and delegation is an act in
the case's journal (`task.claimed`, `task.unclaimed`, `task.delegated`), which the
transparency log records, so the history is never edited.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, timestamp_field


class GroupKind(StrEnum):
    ROLE = "role"  # everyone with this procedure role
    UNIT = "unit"  # everyone in this department or institution


class StageCandidate(SQLModel, table=True):
    """A candidate group of one case stage."""

    __table_args__ = (UniqueConstraint("case_id", "stage_key", "kind", "value"),
                      Index("ix_stagecandidate_group", "kind", "value", "case_id", "stage_key"))

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="decisioncase.id", max_length=32)
    stage_key: str = Field(max_length=64)
    kind: str = Field(max_length=8, description="a GroupKind")
    value: str = Field(max_length=200)
    added_by: str = Field(max_length=64)
    added_at: datetime = timestamp_field()


class TaskHolder(SQLModel, table=True):
    """The person who holds a claimed task now (one per case stage)."""

    __table_args__ = (UniqueConstraint("case_id", "stage_key"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="decisioncase.id", max_length=32)
    stage_key: str = Field(max_length=64)
    person_id: int = Field(foreign_key="person.id", index=True)
    since: datetime = timestamp_field()


class SavedFilter(SQLModel, table=True):
    """A person's named inbox filter; empty criteria match every task."""

    __table_args__ = (UniqueConstraint("person_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    name: str = Field(max_length=60)
    case_id: str = Field(default="", max_length=32)
    stage_key: str = Field(default="", max_length=64)
    due_before: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    overdue_only: bool = Field(default=False)
    created_at: datetime = timestamp_field()
