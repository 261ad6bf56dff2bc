"""An immutable snapshot of a case, which is all a gate rule may look at."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel

from models.procedure import ProcedureDefinition, StageDefinition
from models.stages import StageStatus


@dataclass(frozen=True)
class EvidenceFact:
    id: int
    stage_key: str
    evidence: BaseModel | None  # None: the stored row fails its hash or schema
    recorded_by: str
    recorded_at: datetime
    draft_version: int


@dataclass(frozen=True)
class StageFacts:
    status: StageStatus
    opened_at: datetime | None = None
    completed_at: datetime | None = None


@dataclass(frozen=True)
class CaseFacts:
    case_id: str
    procedure: ProcedureDefinition
    stages: dict[str, StageFacts]
    evidence: tuple[EvidenceFact, ...] = ()
    assignments: dict[str, frozenset[str]] = field(default_factory=dict)
    draft_version: int = 1

    def evidence_for(self, stage_key: str) -> list[EvidenceFact]:
        return [e for e in self.evidence if e.stage_key == stage_key]

    def current_evidence(self, stage_key: str) -> list[EvidenceFact]:
        """The evidence a gate judges: the latest item, or the latest per recorder."""
        items = self.evidence_for(stage_key)
        if not items:
            return []
        if self.procedure.stage(stage_key).stage_kind.one_item_per_recorder:
            latest: dict[str, EvidenceFact] = {}
            for item in items:
                latest[item.recorded_by] = item
            return list(latest.values())
        return [items[-1]]

    def status(self, stage_key: str) -> StageStatus:
        return self.stages.get(stage_key, StageFacts(StageStatus.PENDING)).status

    def unmet_prerequisites(self, stage: StageDefinition) -> list[str]:
        return [k for k in stage.after if self.status(k) is not StageStatus.COMPLETED]
