"""Decision cases, their draft versions, and the case file an official submits."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import JSONColumn, timestamp_field
from models.people import InterestDeclarationCreate, PersonCreate


class CaseStatus(StrEnum):
    OPEN = "open"  # procedure running
    DECIDED = "decided"  # collective decision recorded, publication pending
    CLOSED = "closed"  # every stage completed


ProposalSource = Literal["leader", "department", "deputies", "citizens"]


class DraftCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = PydanticField(min_length=1, max_length=300)
    text: str = PydanticField(min_length=1, description="The draft decision text")


class DraftRevise(DraftCreate):
    """A revised draft from the undertaking unit (Art. 24 and 28: adjust and resubmit)."""

    reason: str = PydanticField(min_length=1, max_length=5000, description="Why it was revised")


class ProposalCreate(BaseModel):
    """How the matter was proposed and accepted by the decision organ (Art. 10)."""

    model_config = ConfigDict(extra="forbid")

    summary: str = PydanticField(
        min_length=1, max_length=5000,
        description="The problem, the reasons and basis, and the initial plan",
    )
    in_writing: bool = PydanticField(
        default=True, description="Citizens' and deputies' proposals must be in writing"
    )
    studied_by: str = PydanticField(
        default="", max_length=200, description="Unit that studied the proposal (Art. 10)"
    )
    accepted_on: date | None = PydanticField(
        default=None, description="When the organ decided to start the procedure"
    )


class ConsultationCreate(BaseModel):
    """A unit whose duties the matter touches, consulted by the undertaking unit (Art. 13)."""

    model_config = ConfigDict(extra="forbid")

    unit: str = PydanticField(min_length=1, max_length=200)
    agreed: bool
    disagreement: str | None = PydanticField(
        default=None, max_length=5000,
        description="When not agreed: the issues, the unit's view, and the undertaking "
        "unit's view with its reasons, as explained to the organ",
    )


class ExpertPanelCreate(BaseModel):
    """How the expert panel of a stage was composed (Art. 20)."""

    model_config = ConfigDict(extra="forbid")

    composition_note: str | None = PydanticField(
        default=None, min_length=1, max_length=5000,
        description="How experts with differing views were included",
    )
    declarations: dict[str, InterestDeclarationCreate] = PydanticField(
        default_factory=dict, description="Expert handle -> interest declaration"
    )


class CommentWindowCreate(BaseModel):
    """The comment window's length declared at opening (Art. 15), published with the call."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    days: int = PydanticField(
        ge=1, le=365, description="Days from the opening of public participation to the close",
    )
    shortened_reason: str | None = PydanticField(
        default=None, max_length=2000,
        description="Why the window is shorter than the procedure's minimum (published)",
    )


class SimulatedClockCreate(BaseModel):
    """A demo or test case runs on a simulated clock starting here (never for real use)."""

    model_config = ConfigDict(extra="forbid")

    starts_at: datetime = PydanticField(description="Case time at opening (timezone-aware)")

    @model_validator(mode="after")
    def _aware(self) -> SimulatedClockCreate:
        if self.starts_at.tzinfo is None:
            raise ValueError("simulated_clock.starts_at: give a time zone offset")
        return self


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
    proposal: ProposalCreate | None = None
    consultations: list[ConsultationCreate] = PydanticField(default_factory=list, max_length=100)
    expert_panels: dict[str, ExpertPanelCreate] = PydanticField(
        default_factory=dict, description="Expert stage key -> panel composition"
    )
    comment_window: CommentWindowCreate | None = PydanticField(
        default=None,
        description="Art. 15: the comment window's length; shorter than the procedure's "
        "minimum only with a reason, published with the call for comments",
    )
    simulated_clock: SimulatedClockCreate | None = PydanticField(
        default=None, description="Demo and tests only: run the case on simulated time"
    )

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
    # Art. 10-13: the proposal and the consultations of other units, as opened.
    initiation: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONColumn))


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
    created_by: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None, sa_column=Column(Text))


def text_sha256(text: str) -> str:
    """SHA-256 of a text (UTF-8): a draft as shown in the dossier and the journal, a note."""
    return hashlib.sha256(text.encode()).hexdigest()
