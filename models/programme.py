"""Tables of the practical-matters programme (为民办实事): residents' proposals, their
moderation marks, ballots and votes (`programme/` holds the capability).

Proposals, marks and votes are written once and never changed (database triggers refuse
UPDATE and DELETE) and each is a record in the transparency log: a proposal on its
programme year's chain (`programme-<year>`), a vote on its ballot's chain
(`ballot-<id>`), which the ballot's tally closes. A voter appears only as a keyed
pseudonym, never by name, address or code.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import JSONColumn, UTCDateTime
from models.one_time_codes import Assurance


class Level(StrEnum):
    DISTRICT = "district"
    STREET = "street"


class MarkKind(StrEnum):
    MERGED = "merged"  # a duplicate, merged into another proposal
    REFUSED = "refused"  # out of the programme's scope
    SHORTLISTED = "shortlisted"  # put on a ballot


class Roll(StrEnum):
    PUBLIC = "public"  # residents, verified by a one-time code
    EXPERT = "expert"  # the registered experts, by their API token


def programme_chain(year: int) -> str:
    return f"programme-{year}"


def ballot_chain(ballot_id: int) -> str:
    return f"ballot-{ballot_id}"


class ProposalCreate(BaseModel):
    """What a resident submits under "我要提实事"."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: str = PydanticField(min_length=1, max_length=60,
                                  description="Area, e.g. 交通, 养老, 教育")
    level: Level = PydanticField(description="district or street")
    street: str | None = PydanticField(default=None, max_length=100,
                                       description="The street (街道), for a street-level matter")
    place: str = PydanticField(min_length=1, max_length=300, description="Where")
    description: str = PydanticField(min_length=10, max_length=5000, description="What to do")
    author: str | None = PydanticField(default=None, max_length=100, description="Optional name")

    @model_validator(mode="after")
    def _street_for_street_level(self) -> ProposalCreate:
        if self.level is Level.STREET and not (self.street or "").strip():
            raise ValueError("street: required for a street-level proposal")
        return self


class Proposal(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    receipt_number: str = Field(max_length=40, unique=True)
    category: str = Field(max_length=60)
    level: str = Field(max_length=16)
    street: str | None = Field(default=None, max_length=100)
    place: str = Field(max_length=300)
    description: str = Field(sa_column=Column(Text, nullable=False))
    author: str | None = Field(default=None, max_length=100)
    client_digest: str = Field(max_length=64, description="Keyed digest of the client address")
    submitted_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class MarkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: MarkKind
    reason: str = PydanticField(min_length=1, max_length=2000, description="Published")
    merged_into: int | None = PydanticField(default=None, description="For a merge")

    @model_validator(mode="after")
    def _merge_target(self) -> MarkCreate:
        if (self.kind is MarkKind.MERGED) != (self.merged_into is not None):
            raise ValueError("merged_into: required for a merge, and only for a merge")
        return self


class ProposalMark(SQLModel, table=True):
    """A moderation act: never a deletion; its reason is published."""

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    year: int
    kind: str = Field(max_length=16)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    merged_into: int | None = Field(default=None, foreign_key="proposal.id")
    marked_by: str = Field(max_length=64)
    marked_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class BallotCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    year: int = PydanticField(ge=2000, le=2100)
    title: str = PydanticField(min_length=3, max_length=300)
    roll: Roll
    choose_up_to: int = PydanticField(ge=1, le=100, description="Choose up to N")
    opens_at: datetime
    closes_at: datetime
    options: list[int] = PydanticField(min_length=2, max_length=500,
                                       description="Proposal ids on the ballot")
    assurance: Assurance | None = PydanticField(
        default=None, description="verified or channel (default: channel for the public "
        "roll, verified for the expert roll)")
    attempt_budget: int | None = PydanticField(
        default=None, ge=1, le=10_000_000,
        description="Wrong code attempts the ballot takes in all (default: "
        "DUEPROCESS_BALLOT_ATTEMPT_BUDGET)")

    @field_validator("opens_at", "closes_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give a time zone offset")
        return value

    @model_validator(mode="after")
    def _window(self) -> BallotCreate:
        if self.closes_at <= self.opens_at:
            raise ValueError("closes_at: must be after opens_at")
        if len(set(self.options)) != len(self.options):
            raise ValueError("options: a proposal is listed twice")
        if self.choose_up_to > len(self.options):
            raise ValueError("choose_up_to: more than the options on the ballot")
        if self.roll is Roll.EXPERT and self.assurance is Assurance.CHANNEL:
            raise ValueError("assurance: an expert ballot is verified (experts vote with "
                             "their credential)")
        return self

    def assurance_level(self) -> Assurance:
        if self.assurance is not None:
            return self.assurance
        return Assurance.VERIFIED if self.roll is Roll.EXPERT else Assurance.CHANNEL


class Ballot(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    year: int
    title: str = Field(max_length=300)
    roll: str = Field(max_length=16)
    choose_up_to: int
    opens_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    closes_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    options: list[int] = Field(sa_column=Column(JSONColumn, nullable=False))
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # The lowest assurance a vote needs: a `channel` ballot takes one-time codes (and,
    # once built, verified residents); a `verified` ballot refuses codes (VOTE-ASSURANCE).
    assurance: str = Field(default=Assurance.CHANNEL.value, max_length=16)
    attempt_budget: int = Field(default=10_000, description="Wrong code attempts in all")


class Vote(SQLModel, table=True):
    """One voter's choices on a ballot, under the voter's keyed pseudonym."""

    __table_args__ = (UniqueConstraint("ballot_id", "pseudonym"),)

    id: int | None = Field(default=None, primary_key=True)
    ballot_id: int = Field(foreign_key="ballot.id")
    pseudonym: str = Field(max_length=64, description="HMAC of the voter, keyed per ballot")
    choices: list[int] = Field(sa_column=Column(JSONColumn, nullable=False))
    cast_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    assurance: str = Field(default=Assurance.CHANNEL.value, max_length=16,
                           description="verified or channel: how the voter was confirmed")


class VoterCode(SQLModel, table=True):
    """A one-time code sent to a public voter's channel; only its digest is stored."""

    id: int | None = Field(default=None, primary_key=True)
    ballot_id: int = Field(foreign_key="ballot.id", index=True)
    pseudonym: str = Field(max_length=64)
    code_sha256: str = Field(max_length=64, index=True)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    attempts: int = Field(default=0, description="Wrong attempts; it dies at the limit")


class ProgrammeList(SQLModel, table=True):
    """The year's list of practical matters as a Decree 713 case: the shortlist its draft
    was made from, and the list case it revises (adding or removing an item during the
    year goes through the procedure again)."""

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    ballot_id: int = Field(foreign_key="ballot.id")
    case_id: str = Field(foreign_key="decisioncase.id", unique=True, max_length=32)
    proposals: list[int] = Field(sa_column=Column(JSONColumn, nullable=False))
    revises: str | None = Field(default=None, foreign_key="decisioncase.id", max_length=32)
    opened_by: str = Field(max_length=64)
    opened_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
