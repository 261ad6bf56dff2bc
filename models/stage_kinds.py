"""The kinds of stage a procedure may use: each names its evidence schema and gate parameters."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from models import evidence_schemas as schemas


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PublicParticipationParams(Params):
    min_comment_days: int = Field(default=30, ge=1, description="Art. 15: at least 30 days")


class ExpertReviewParams(Params):
    min_experts: int = Field(default=3, ge=1, description="Smallest panel of written opinions")


class LegalityReviewParams(Params):
    min_review_working_days: int = Field(default=7, ge=0, description="Art. 27")


class PublicationParams(Params):
    publish_within_days: int = Field(default=15, ge=0, description="Art. 32: promptly")


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
        StageKind("collective_decision", schemas.CollectiveDecisionEvidence, Params,
                  decides=True),
        StageKind("publication", schemas.PublicationEvidence, PublicationParams),
    )
}
