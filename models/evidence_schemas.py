"""What each kind of stage must record, as pydantic schemas.

These schemas check the shape of one submission. Whether the evidence satisfies the law
(a long enough window, a lawful outcome, a quorum) is for the gate rules in
`dueprocess.rules`, whose messages cite the article.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol, runtime_checkable

import rfc8785
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from models.evidence_titles import N_, field_title

Text = Field(min_length=1, max_length=20_000)
HANDLE = r"^[a-z0-9][a-z0-9._-]{1,63}$"
SHA256_HEX = r"^[0-9a-f]{64}$"


class Schema(BaseModel):
    # Titles are English msgids (models.evidence_titles), translated where a form shows them.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True,
                              field_title_generator=field_title)


class DocumentIn(Schema):
    """An attached file; its decoded size is limited by DUEPROCESS_MAX_DOCUMENT_BYTES."""

    filename: str = Field(min_length=1, max_length=200)
    media_type: str = Field(default="application/pdf", max_length=100)
    content_base64: str = Field(description=N_("File content, base64"))


class OpinionResponse(Schema):
    """The answer to one received opinion, or to a cluster of similar ones (Art. 18)."""

    cluster: str = Field(min_length=1, max_length=1000, description=N_("The opinion or its gist"))
    opinions: int = Field(ge=1, description=N_("How many received opinions this answers"))
    response: Literal["adopted", "partly_adopted", "not_adopted"]
    reason: str = Field(default="", max_length=5000)


class Hearing(Schema):
    """A hearing held during public participation (Art. 16–17)."""

    held_on: date
    selection_method_published_on: date | None = Field(
        default=None, description=N_("When the participant selection method was published")
    )
    participants_published_on: date | None = Field(
        default=None, description=N_("When the participant list was published")
    )
    materials_sent_on: date | None = Field(
        default=None, description=N_("When the hearing materials reached the participants")
    )
    participants: list[str] = Field(min_length=1, max_length=500)
    record_signed_by: list[str] = Field(
        default_factory=list, max_length=500, description=N_("Participants who signed the record")
    )


class PublicParticipationEvidence(Schema):
    """Art. 14–18: the call for comments, the window, any hearing, and each opinion's answer."""

    call_published_on: date
    call_url: HttpUrl
    published_materials: list[Literal["draft", "explanation"]] = Field(
        default_factory=list, description=N_("What the call published (Art. 15)")
    )
    window_opens: date
    window_closes: date
    shortened_reason: str | None = Field(
        default=None, max_length=2000, description=N_("Required when the window is shortened")
    )
    shortened_reason_published: bool = Field(
        default=False, description=N_("The reason was published with the call for comments")
    )
    specific_groups_affected: bool = Field(
        default=False, description=N_("The matter touches the interests of specific groups")
    )
    groups_consulted: list[str] = Field(default_factory=list, max_length=100)
    hearing: Hearing | None = None
    opinions_received: int = Field(ge=0)
    adoption_statement: str = Field(
        min_length=1, max_length=20_000, description=N_("How opinions were sorted and adopted")
    )
    responses: list[OpinionResponse] = Field(
        default_factory=list, max_length=1000,
        description=N_("Adopted, partly adopted or not adopted, with a reason, per opinion or "
        "cluster; together they cover every opinion received"),
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
    """Art. 19–21: one expert's signed written opinion (one item per expert).

    Signed with the expert's registered Ed25519 key over `signed_bytes()`, or sealed on
    paper and scanned, in which case the scan's SHA-256 is recorded.
    """

    expert_name: str = Field(min_length=1, max_length=200)
    affiliation: str = Field(min_length=1, max_length=200)
    field_of_expertise: str = Field(min_length=1, max_length=200)
    direct_interest: bool = Field(description=N_("Declared direct interest in the matter"))
    conclusion: Literal["supports", "supports_with_changes", "opposes"]
    opinion: str = Text
    signed_on: date
    signature_ed25519: str | None = Field(
        default=None, max_length=200, description=N_("base64 Ed25519 signature of the opinion")
    )
    sealed_scan_sha256: str | None = Field(
        default=None, pattern=SHA256_HEX, description=N_("SHA-256 of the signed and sealed scan")
    )
    documents: list[DocumentIn] = Field(default_factory=list, max_length=20)

    def signed_bytes(self) -> bytes:
        """What the expert signs: the RFC 8785 JSON of the opinion without its signature
        and attachments."""
        return rfc8785.dumps(self.model_dump(
            mode="json", exclude={"signature_ed25519", "sealed_scan_sha256", "documents"}
        ))


RiskArea = Literal["social_stability", "public_safety", "environment", "finance", "other"]


class RiskAssessmentEvidence(Schema):
    """Art. 22–24: risk points, prevention, response plan and the controllability verdict."""

    areas: list[RiskArea] = Field(default_factory=list, description=N_("What was assessed"))
    risk_points: list[str] = Field(min_length=1, max_length=100)
    prevention_measures: list[str] = Field(min_length=1, max_length=100)
    response_plan: str = Text
    departments_consulted: list[str] = Field(
        default_factory=list, max_length=100, description=N_("Departments heard (Art. 23)")
    )
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
    review_covers: list[Literal["authority", "procedure", "content"]] = Field(
        default_factory=list, description=N_("What the review examined (Art. 27)")
    )
    advisers_consulted: list[str] = Field(
        default_factory=list, max_length=50,
        description=N_("Legal advisers and public-sector lawyers heard (Art. 28)"),
    )
    legal_risk_statement: str | None = Field(default=None, max_length=20_000)
    documents: list[DocumentIn] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _dates(self) -> LegalityReviewEvidence:
        if self.issued_on < self.received_on:
            raise ValueError("issued_on must not be before received_on")
        return self


class Statement(Schema):
    speaker: str = Field(pattern=HANDLE, description=N_("Handle of the member who spoke"))
    position: Literal["for", "against", "abstain"]
    text: str = Text


class Dissent(Schema):
    member: str = Field(pattern=HANDLE)
    text: str = Field(min_length=1, max_length=20_000, description=N_("As stated, verbatim"))


MeetingMaterial = Literal[
    "draft", "public_opinion_adoption", "expert_opinion_adoption", "risk_report",
    "legality_opinion",
]


@dataclass(frozen=True)
class DecisionFields:
    """What a deciding stage's evidence puts in the case's decision."""

    outcome: str
    text: str
    decided_by: str  # handle
    decided_on: date


@runtime_checkable
class DecidingEvidence(Protocol):
    """The evidence of a deciding stage kind (`StageKind.decides`)."""

    def decision(self, recorded_by: str) -> DecisionFields: ...


class CollectiveDecisionEvidence(Schema):
    """Art. 29–31: the meeting record with the head's decision and dissent as stated."""

    meeting_type: Literal["executive", "plenary", "office"]
    held_on: date
    members_present: list[str] = Field(min_length=1, max_length=200)
    materials_received: list[MeetingMaterial] = Field(
        default_factory=list, description=N_("The Art. 29 materials before the meeting")
    )
    expert_opinion_adoption: str | None = Field(
        default=None, max_length=20_000,
        description=N_("How the expert opinions were studied and adopted (Art. 29)"),
    )
    statements: list[Statement] = Field(min_length=1, max_length=200)
    head: str = Field(pattern=HANDLE, description=N_("Handle of the administrative head"))
    head_decision: Literal["approve", "reject", "defer"]
    decision_text: str = Text
    dissent: list[Dissent] = Field(default_factory=list, max_length=200)
    reasons_against_majority: str | None = Field(default=None, max_length=20_000)
    documents: list[DocumentIn] = Field(default_factory=list, max_length=20)

    def decision(self, recorded_by: str) -> DecisionFields:
        return DecisionFields(self.head_decision, self.decision_text, self.head, self.held_on)


class PublicationEvidence(Schema):
    """Art. 31–32: where and when the decision was published, after the Party committee
    was consulted."""

    published_on: date
    channels: list[Literal["gazette", "website", "media"]] = Field(min_length=1)
    url: HttpUrl
    # Optional in the schema so that a missing explanation is refused by its rule,
    # PB-ADOPTION-EXPLAINED (Art. 32), rather than as a bare schema error.
    adoption_explanation: str | None = Field(
        default=None, max_length=20_000, description=N_("How public opinions were adopted")
    )
    expert_adoption_explanation: str | None = Field(
        default=None, max_length=20_000, description=N_("How expert opinions were adopted")
    )
    party_committee_consulted_on: date | None = Field(
        default=None, description=N_("When the Party committee at the same level was consulted")
    )
    party_committee_reference: str | None = Field(default=None, max_length=200)
    documents: list[DocumentIn] = Field(default_factory=list, max_length=20)


class FilingEvidence(Schema):
    """Filing of a normative document for the record with the higher authority."""

    filed_with: str = Field(min_length=1, max_length=200, description=N_("The higher authority"))
    filed_on: date
    filing_number: str = Field(min_length=1, max_length=100)
    documents: list[DocumentIn] = Field(default_factory=list, max_length=20)


class AssignmentEvidence(Schema):
    """A judicial or procuratorial recommendation, received, assigned to the department
    that answers it and to the official who signs the reply."""

    department: str = Field(min_length=1, max_length=200)
    responsible: str = Field(pattern=HANDLE, description=N_("Handle of the official who replies"))
    assigned_on: date
    instructions: str | None = Field(default=None, max_length=5000)


class RecommendationReplyEvidence(Schema):
    """The written reply to a judicial or procuratorial recommendation (办复)."""

    replied_on: date
    outcome: Literal["adopted", "partly_adopted", "not_adopted"]
    reply_text: str = Text
    measures: str | None = Field(default=None, max_length=20_000,
                                 description=N_("What was done or will be done, and by when"))
    reasons: str | None = Field(default=None, max_length=20_000,
                                description=N_("Why a part was not adopted"))
    documents: list[DocumentIn] = Field(default_factory=list, max_length=20)

    def decision(self, recorded_by: str) -> DecisionFields:
        return DecisionFields(self.outcome, self.reply_text, recorded_by, self.replied_on)


class DecisionEvaluationEvidence(Schema):
    """Art. 36: the evaluation after the decision, by the unit the organ charged with it,
    having heard the public, with its conclusion (Art. 37: an adjustment or a stop goes
    through the procedure again)."""

    evaluated_by: str = Field(min_length=1, max_length=200, description=N_("The evaluating unit"))
    third_party: bool = Field(default=False, description=N_("A professional or social body"))
    method: str = Field(min_length=1, max_length=5000)
    public_opinions_heard: int = Field(ge=0, description=N_("Opinions of the public heard"))
    participants: list[Literal["deputies", "cppcc_members", "people_organizations",
                               "grassroots_organizations", "social_organizations"]] = Field(
        default_factory=list, max_length=5,
        description=N_("Who took part: people's congress deputies, CPPCC members, ..."))
    findings: str = Text
    conclusion: Literal["continue", "adjust", "stop"]
    reasons: str | None = Field(default=None, max_length=20_000,
                                description=N_("Why it should be adjusted or stopped"))
    concluded_on: date
    documents: list[DocumentIn] = Field(default_factory=list, max_length=20)

    def decision(self, recorded_by: str) -> DecisionFields:
        return DecisionFields(self.conclusion, self.findings, recorded_by, self.concluded_on)
