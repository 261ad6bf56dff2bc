"""The kinds of stage a procedure may use: each names its evidence schema and gate parameters.

Every parameter defaults to the statutory value, so a procedure file only states what it
changes; a procedure cannot switch a duty off unless a parameter says it may.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from models import evidence_schemas as schemas


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def due_after_opening_days(self) -> int | None:
        """A deadline counted from the case's opening, which the watchdog escalates instead
        of DUEPROCESS_STAGE_DEADLINE_DAYS; None: the operator's stage deadline applies."""
        return None


class PublicParticipationParams(Params):
    min_comment_days: int = Field(default=30, ge=1, description="Art. 15: at least 30 days")
    hearing_notice_days: int = Field(
        default=7, ge=1, description="Art. 17: hearing materials at least 7 days before"
    )


class ExpertReviewParams(Params):
    min_experts: int = Field(default=3, ge=1, description="Smallest panel of written opinions")


class LegalityReviewParams(Params):
    min_review_working_days: int = Field(default=7, ge=0, description="Art. 26")
    calendar: str = Field(
        default="chinesecalendar",
        description="'chinesecalendar', or the path of a working-day calendar file",
    )


class CollectiveDecisionParams(Params):
    meeting_types: tuple[Literal["executive", "plenary", "office"], ...] = Field(
        default=("executive", "plenary"), min_length=1,
        description="Art. 30: an executive or plenary meeting of the organ",
    )
    quorum_fraction: float = Field(
        default=0.5, ge=0, lt=1,
        description="More than this fraction of the organ's members must be present",
    )
    requires_legality_review: bool = Field(
        default=True, description="Art. 25: no discussion without a lawful legality review"
    )


class PublicationParams(Params):
    publish_within_days: int = Field(default=15, ge=0, description="Art. 32: promptly")
    explain_adoption: bool = Field(
        default=True, description="Art. 32: explain how public and expert opinions were adopted"
    )
    party_consultation: bool = Field(
        default=True, description="Art. 31: the Party committee is consulted before issue"
    )


class RecommendationReplyParams(Params):
    reply_within_days: int = Field(
        default=60, ge=1, le=366,
        description="Days from receipt (the case's opening) to the written reply, e.g. the "
        "two months of a procuratorial recommendation",
    )

    def due_after_opening_days(self) -> int:
        return self.reply_within_days


class FilingParams(Params):
    file_within_days: int = Field(
        default=30, ge=0, description="Filed with the higher authority within 30 days"
    )


@dataclass(frozen=True)
class StageKind:
    name: str
    evidence: type[BaseModel]
    params: type[Params]
    one_item_per_recorder: bool = False  # e.g. one opinion per expert
    decides: bool = False  # completing it records the case's decision


STAGE_KINDS: dict[str, StageKind] = {
    kind.name: kind
    for kind in (
        StageKind("public_participation", schemas.PublicParticipationEvidence,
                  PublicParticipationParams),
        StageKind("expert_review", schemas.ExpertOpinionEvidence, ExpertReviewParams,
                  one_item_per_recorder=True),
        StageKind("risk_assessment", schemas.RiskAssessmentEvidence, Params),
        StageKind("legality_review", schemas.LegalityReviewEvidence, LegalityReviewParams),
        StageKind("collective_decision", schemas.CollectiveDecisionEvidence,
                  CollectiveDecisionParams, decides=True),
        StageKind("publication", schemas.PublicationEvidence, PublicationParams),
        StageKind("filing", schemas.FilingEvidence, FilingParams),
        StageKind("assignment", schemas.AssignmentEvidence, Params),
        StageKind("decision_evaluation", schemas.DecisionEvaluationEvidence, Params,
                  decides=True),
        StageKind("recommendation_reply", schemas.RecommendationReplyEvidence,
                  RecommendationReplyParams, decides=True),
    )
}
