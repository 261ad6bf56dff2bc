"""What each kind of stage must record, as pydantic schemas.

These schemas check the shape of one submission. Whether the evidence satisfies the law
(a long enough window, a lawful outcome) is for the gate rules in `dueprocess.rules`.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

Text = Field(min_length=1, max_length=20_000)


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DocumentIn(Schema):
    """An attached file; its decoded size is limited by DUEPROCESS_MAX_DOCUMENT_BYTES."""

    filename: str = Field(min_length=1, max_length=200)
    media_type: str = Field(default="application/pdf", max_length=100)
    content_base64: str = Field(description="File content, base64")


class PublicParticipationEvidence(Schema):
    """Art. 14–18: the call for comments, the window, and how opinions were adopted."""

    call_published_on: date
    call_url: HttpUrl
    window_opens: date
    window_closes: date
    shortened_reason: str | None = Field(
        default=None, max_length=2000, description="Required when the window is shortened"
    )
    opinions_received: int = Field(ge=0)
    adoption_statement: str = Field(
        min_length=1, max_length=20_000, description="How opinions were sorted and adopted"
    )
    documents: list[DocumentIn] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _window_order(self) -> PublicParticipationEvidence:
        if self.window_closes <= self.window_opens:
            raise ValueError("window_closes must be after window_opens")
        if self.call_published_on > self.window_opens:
            raise ValueError("call_published_on must not be after window_opens")
        return self


class ExpertOpinionEvidence(Schema):
    """Art. 19–21: one expert's signed written opinion (one item per expert)."""

    expert_name: str = Field(min_length=1, max_length=200)
    affiliation: str = Field(min_length=1, max_length=200)
    field_of_expertise: str = Field(min_length=1, max_length=200)
    direct_interest: bool = Field(description="Declared direct interest in the matter")
    conclusion: Literal["supports", "supports_with_changes", "opposes"]
    opinion: str = Text
    signed_on: date
    documents: list[DocumentIn] = Field(default_factory=list, max_length=20)


class RiskAssessmentEvidence(Schema):
    """Art. 22–24: risk points, prevention, response plan and the controllability verdict."""

    risk_points: list[str] = Field(min_length=1, max_length=100)
    prevention_measures: list[str] = Field(min_length=1, max_length=100)
    response_plan: str = Text
    controllable: bool
    level: Literal["high", "medium", "low"] | None = None
    assessed_on: date
    documents: list[DocumentIn] = Field(default_factory=list, max_length=20)


class LegalityReviewEvidence(Schema):
    """Art. 25–28: the legal department's opinion on the draft."""

    received_on: date
    issued_on: date
    outcome: Literal["lawful", "revise", "unlawful", "exploratory_reform"]
    opinion: str = Text
    legal_risk_statement: str | None = Field(default=None, max_length=20_000)
    documents: list[DocumentIn] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _dates(self) -> LegalityReviewEvidence:
        if self.issued_on < self.received_on:
            raise ValueError("issued_on must not be before received_on")
        return self


class Statement(Schema):
    speaker: str = Field(min_length=1, max_length=200)
    position: Literal["for", "against", "abstain"]
    text: str = Text


class Dissent(Schema):
    member: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=20_000, description="As stated, verbatim")


class CollectiveDecisionEvidence(Schema):
    """Art. 29–31: the meeting record with the head's decision and dissent as stated."""

    meeting_type: Literal["executive", "plenary"]
    held_on: date
    members_present: list[str] = Field(min_length=1, max_length=200)
    statements: list[Statement] = Field(min_length=1, max_length=200)
    head: str = Field(min_length=1, max_length=200)
    head_decision: Literal["approve", "reject", "defer"]
    decision_text: str = Text
    dissent: list[Dissent] = Field(default_factory=list, max_length=200)
    reasons_against_majority: str | None = Field(default=None, max_length=20_000)
    documents: list[DocumentIn] = Field(default_factory=list, max_length=20)


class PublicationEvidence(Schema):
    """Art. 32: where and when the decision was published."""

    published_on: date
    channels: list[Literal["gazette", "website", "media"]] = Field(min_length=1)
    url: HttpUrl
    adoption_explanation: str = Text
    documents: list[DocumentIn] = Field(default_factory=list, max_length=20)
