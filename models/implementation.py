"""Tables of implementation and supervision (Decree 713 Art. 34–35): an item of a decided
case (a practical-matters list item, or any decided case) with its responsible
department and level, its milestones, progress updates with their evidence, and the
supervision record of each overdue milestone (`programme/` holds the capability).

All four are written once and never changed (database triggers refuse UPDATE and
DELETE). Each row is a record on the item's own log chain (`item-<id>`), so an item's
whole history is exported and verified on its own. A milestone is completed by the
progress update that says so; dates that rules compare are the case's dates of what
dueprocess recorded, never dates someone typed, except a milestone's due date.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from models.base import JSONColumn, UTCDateTime
from models.programme import Level


def item_chain(item_id: int) -> str:
    return f"item-{item_id}"


class ItemCreate(BaseModel):
    """An implementation item of a decided case."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    case_id: str = PydanticField(min_length=1, max_length=32, description="The decided case")
    title: str = PydanticField(min_length=3, max_length=300)
    department: str = PydanticField(min_length=1, max_length=200,
                                    description="Responsible department (a registered unit)")
    level: Level = PydanticField(description="district or street")
    street: str | None = PydanticField(default=None, max_length=100)
    proposal_id: int | None = PydanticField(default=None, description="The proposal it answers")

    @model_validator(mode="after")
    def _street_for_street_level(self) -> ItemCreate:
        if self.level is Level.STREET and not (self.street or "").strip():
            raise ValueError("street: required for a street-level item")
        return self


class ImplementationItem(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="decisioncase.id", index=True, max_length=32)
    title: str = Field(max_length=300)
    department: str = Field(max_length=200, index=True)
    level: str = Field(max_length=16)
    street: str | None = Field(default=None, max_length=100)
    proposal_id: int | None = Field(default=None, foreign_key="proposal.id")
    registered_by: str = Field(max_length=64)
    registered_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    registered_on: date = Field(description="The case's date when it was registered")


class MilestoneCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = PydanticField(min_length=3, max_length=300)
    due_on: date


class Milestone(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="implementationitem.id", index=True)
    title: str = Field(max_length=300)
    due_on: date
    set_by: str = Field(max_length=64)
    set_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class ProgressUpdateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = PydanticField(min_length=1, max_length=20_000)
    percent: int = PydanticField(ge=0, le=100, description="Of the whole item")
    evidence: list[str] = PydanticField(
        default_factory=list, max_length=50,
        description="What shows it: document references or links")
    completes_milestone: int | None = PydanticField(
        default=None, description="The id of the milestone this update completes")

    @model_validator(mode="after")
    def _evidence_for_completion(self) -> ProgressUpdateCreate:
        if self.completes_milestone is not None and not self.evidence:
            raise ValueError("evidence: required to complete a milestone")
        if any(not e.strip() or len(e) > 500 for e in self.evidence):
            raise ValueError("evidence: each entry 1-500 characters")
        return self


class ProgressUpdate(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="implementationitem.id", index=True)
    completes_milestone: int | None = Field(default=None, foreign_key="milestone.id",
                                            unique=True)
    percent: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    evidence: list[str] = Field(sa_column=Column(JSONColumn, nullable=False))
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    recorded_on: date = Field(description="The case's date when dueprocess recorded it")


class SupervisionRecord(SQLModel, table=True):
    """A milestone found overdue by supervision (督办), escalated once."""

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="implementationitem.id", index=True)
    milestone_id: int = Field(foreign_key="milestone.id", unique=True)
    due_on: date
    detected_on: date = Field(description="The case's date when supervision found it")
    department: str = Field(max_length=200)
    detected_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class ItemCommentCreate(BaseModel):
    """A resident's comment under an item: a rating, and "press" (督促) to urge it on."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    body: str = PydanticField(min_length=2, max_length=2000)
    rating: int | None = PydanticField(default=None, ge=1, le=5,
                                       description="1 (poor) to 5 (very good)")
    press: bool = PydanticField(default=False, description="Urge the department on")


class ItemComment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="implementationitem.id", index=True)
    body: str = Field(sa_column=Column(Text, nullable=False))
    rating: int | None = None
    press: bool = False
    client_digest: str = Field(max_length=64, description="Keyed digest of the client address")
    received_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
