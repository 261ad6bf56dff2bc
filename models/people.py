"""People who act in a procedure and their per-case stage assignments."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import timestamp_field

HANDLE_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"


class PersonBase(SQLModel):
    handle: str = Field(regex=HANDLE_PATTERN, max_length=64, description="Login-style handle")
    name: str = Field(min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=64, description="e.g. legal_reviewer, expert")
    unit: str = Field(default="", max_length=200, description="Department or institution")


class PersonCreate(PersonBase):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]


class Person(PersonBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    handle: str = Field(unique=True, index=True, max_length=64)
    created_at: datetime = timestamp_field()


class PersonPublic(BaseModel):
    handle: str
    name: str
    role: str
    unit: str


class Assignment(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("case_id", "stage_key", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="decisioncase.id", index=True)
    stage_key: str = Field(max_length=64)
    person_id: int = Field(foreign_key="person.id")
    assigned_at: datetime = timestamp_field()
