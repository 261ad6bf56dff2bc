"""Hearings (Decree 713 Art. 16–17): announced by dueprocess, their materials delivered
through the notification outbox, so the hearing gate measures what dueprocess witnessed.

A hearing row is written once and never changed (a database trigger refuses UPDATE and
DELETE). Its materials notice is found by `materials_dedupe_key`; that notice's delivery
records are the witnessed delivery to each participant.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from models.base import JSONColumn, UTCDateTime


class HearingParticipantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = PydanticField(min_length=1, max_length=200, description="Published name")
    contact: str = PydanticField(
        min_length=3, max_length=2000,
        description="Apprise URL the materials are delivered to; encrypted, never published",
    )


class HearingCreate(BaseModel):
    """The hearing file a participation officer submits (YAML or JSON)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    held_on: date
    place: str = PydanticField(min_length=1, max_length=300)
    selection_method: str = PydanticField(
        min_length=1, max_length=2000, description="How participants were selected (published)")
    participants: list[HearingParticipantCreate] = PydanticField(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _names_unique(self) -> HearingCreate:
        names = [p.name for p in self.participants]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"participants: name listed twice: {', '.join(twice)}")
        return self


class Hearing(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="decisioncase.id", index=True, max_length=32)
    stage_key: str = Field(max_length=64)
    held_on: date
    place: str = Field(max_length=300)
    selection_method: str = Field(sa_column=Column(Text, nullable=False))
    participants: list[str] = Field(sa_column=Column(JSONColumn, nullable=False))
    announced_by: str = Field(max_length=64)
    announced_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False),
                                   description="Case time of the announcement")

    @property
    def audience(self) -> str:
        """The Apprise tag of this hearing's participants."""
        return f"hearing-{self.id}"


def materials_dedupe_key(hearing: Hearing) -> str:
    return f"{hearing.case_id}:hearing_materials:{hearing.id}"
