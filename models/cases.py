"""Decision cases, their draft versions, and the case file an official submits."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import JSONColumn, timestamp_field
from models.people import PersonCreate


class CaseStatus(StrEnum):
    OPEN = "open"  # procedure running
    DECIDED = "decided"  # collective decision recorded, publication pending
    CLOSED = "closed"  # every stage completed


ProposalSource = Literal["leader", "department", "deputies", "citizens"]


class DraftCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = PydanticField(min_length=1, max_length=300)
    text: str = PydanticField(min_length=1, description="The draft decision text")


class CaseBase(BaseModel):
    title: str = PydanticField(min_length=3, max_length=300)
    summary: str = PydanticField(default="", max_length=5000)
    organ: str = PydanticField(min_length=1, max_length=200, description="Decision organ")
    undertaking_unit: str = PydanticField(min_length=1, max_length=200)
    proposal_source: ProposalSource = "department"
    legal_basis: list[str] = PydanticField(min_length=1, description="Laws and articles relied on")


class CaseCreate(CaseBase):
    """The case file an official submits (YAML or JSON) to open a case."""

    model_config = ConfigDict(extra="forbid")

    procedure: str = PydanticField(default="decree-713", description="Bundled id or file path")
    draft: DraftCreate
    people: list[PersonCreate] = PydanticField(default_factory=list)
    assignments: dict[str, list[str]] = PydanticField(
        description="Stage key -> handles of the people assigned to it"
    )
    opened_by: str = PydanticField(description="Handle of the official opening the case")

    @model_validator(mode="after")
    def _handles_unique(self) -> CaseCreate:
        handles = [p.handle for p in self.people]
        duplicated = sorted({h for h in handles if handles.count(h) > 1})
        if duplicated:
            raise ValueError(f"people: handle listed twice: {', '.join(duplicated)}")
        return self


class DecisionCase(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=32)
    title: str = Field(max_length=300)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    organ: str = Field(max_length=200)
    undertaking_unit: str = Field(max_length=200)
    proposal_source: str = Field(max_length=32)
    legal_basis: list[str] = Field(sa_column=Column(JSONColumn, nullable=False))
    procedure_id: str = Field(max_length=64)
    # Frozen at opening so that editing a procedure file never changes a running case.
    procedure: dict[str, Any] = Field(sa_column=Column(JSONColumn, nullable=False))
    status: CaseStatus = Field(default=CaseStatus.OPEN)
    opened_by: str = Field(max_length=64)
    opened_at: datetime = timestamp_field()
    # The Prefect flow run currently driving the case; a replacement run takes it over.
    flow_run_id: str | None = Field(default=None, max_length=64)


class CasePublic(CaseBase):
    id: str
    procedure_id: str
    status: CaseStatus
    opened_at: datetime


class DraftVersion(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("case_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="decisioncase.id", index=True)
    version: int = Field(ge=1)
    title: str = Field(max_length=300)
    text: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str = Field(max_length=64)
    created_at: datetime = timestamp_field()
