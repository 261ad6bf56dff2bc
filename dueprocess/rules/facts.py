"""An immutable snapshot of a case, which is all a gate rule may look at."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import BaseModel

from dueprocess.clock import closing_time, last_day, local_date
from models.cases import ConsultationCreate, ProposalCreate
from models.people import ORGAN_ROLES, Role
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
    payload_sha256: str = ""
    documents: tuple[str, ...] = ()  # SHA-256 of each document the payload references


@dataclass(frozen=True)
class StageFacts:
    status: StageStatus
    opened_at: datetime | None = None
    completed_at: datetime | None = None


@dataclass(frozen=True)
class PersonFact:
    handle: str
    name: str
    role: str
    unit: str = ""
    expertise: str = ""  # an expert's field, from the register
    public_keys: tuple[str, ...] = ()  # active Ed25519 keys, base64 of the 32 key bytes


@dataclass(frozen=True)
class DraftFact:
    version: int
    sha256: str
    intact: bool = True  # False: the stored text no longer matches its hash
    reason: str | None = None


@dataclass(frozen=True)
class DeclarationFact:
    direct_interest: bool
    interests: str
    declared_on: date


@dataclass(frozen=True)
class WindowFact:
    """The comment window dueprocess published with the call for comments (Art. 15)."""

    opens_at: datetime
    closes_at: datetime
    shortened_reason: str | None = None  # published with the call, when shorter than 30 days


@dataclass(frozen=True)
class HearingFact:
    """A hearing dueprocess announced (Art. 16) and the delivery of its materials, as the
    notification outbox recorded it; times are case times."""

    held_on: date
    announced_at: datetime
    participants: tuple[str, ...]
    recipients: int = 0  # participants' channels the materials notice went to
    delivered: int = 0  # of those, delivered
    last_delivered_at: datetime | None = None  # when the last participant received them


@dataclass(frozen=True)
class CaseFacts:
    case_id: str
    procedure: ProcedureDefinition
    stages: dict[str, StageFacts]
    evidence: tuple[EvidenceFact, ...] = ()
    assignments: dict[str, frozenset[str]] = field(default_factory=dict)
    draft_version: int = 1
    organ: str = ""
    undertaking_unit: str = ""
    opened_by: str = ""
    legal_basis: tuple[str, ...] = ()
    proposal_source: str = "department"
    proposal: ProposalCreate | None = None
    consultations: tuple[ConsultationCreate, ...] = ()
    people: Mapping[str, PersonFact] = field(default_factory=dict)
    drafts: tuple[DraftFact, ...] = ()
    declarations: Mapping[str, Mapping[str, DeclarationFact]] = field(default_factory=dict)
    panel_notes: Mapping[str, str] = field(default_factory=dict)
    stored_documents: frozenset[str] = frozenset()
    public_comments: tuple[str, ...] = ()  # receipt numbers of comments sent on the portal
    # A programme list case: the ids of its year's proposals, opinions dueprocess holds.
    held_proposals: tuple[int, ...] = ()
    comment_clusters: Mapping[str, int] = field(default_factory=dict)  # campaign key -> size
    # Witnessed by dueprocess itself, never typed: when the case was opened, the comment
    # window it published, and the time zone of the case's calendar dates.
    opened_at: datetime | None = None
    comment_window: WindowFact | None = None
    hearings: tuple[HearingFact, ...] = ()
    timezone: str = "Asia/Shanghai"
    simulated: bool = False  # the case runs on a simulated clock (demo, tests)

    def local_date(self, moment: datetime) -> date:
        """The calendar date of a witnessed moment in the case's time zone."""
        return local_date(moment, self.timezone)

    def last_day(self, end: datetime) -> date:
        """The last day of a period open until `end` (24:00 belongs to the day it ends)."""
        return last_day(end, self.timezone)

    def closing_time(self, end: datetime) -> str:
        """`2026-10-01 24:00 Beijing time`: when a period ends, as its notice gives it."""
        return closing_time(end, self.timezone)

    @property
    def opened_on(self) -> date | None:
        return None if self.opened_at is None else self.local_date(self.opened_at)

    def stage_opened_on(self, stage_key: str) -> date | None:
        opened = self.stages.get(stage_key, StageFacts(StageStatus.PENDING)).opened_at
        return None if opened is None else self.local_date(opened)

    def evidence_for(self, stage_key: str) -> list[EvidenceFact]:
        return [e for e in self.evidence if e.stage_key == stage_key]

    def counted_evidence(self, stage_key: str) -> list[EvidenceFact]:
        """Evidence that still counts: for a stage a revised draft reopens, only the evidence
        bound to the current draft."""
        items = self.evidence_for(stage_key)
        if self.procedure.stage(stage_key).reopen_on_revision:
            items = [e for e in items if e.draft_version == self.draft_version]
        return items

    def current_evidence(self, stage_key: str) -> list[EvidenceFact]:
        """The evidence a gate judges: the latest counted item, or the latest per recorder."""
        items = self.counted_evidence(stage_key)
        if not items:
            return []
        if self.procedure.stage(stage_key).stage_kind.one_item_per_recorder:
            latest: dict[str, EvidenceFact] = {}
            for item in items:
                latest[item.recorded_by] = item
            return list(latest.values())
        return [items[-1]]

    def current_models(self, kind: str) -> list[BaseModel]:
        """The intact current evidence of every stage of `kind`."""
        return [
            item.evidence for stage in self.procedure.stages_of_kind(kind)
            for item in self.current_evidence(stage.key) if item.evidence is not None
        ]

    def status(self, stage_key: str) -> StageStatus:
        return self.stages.get(stage_key, StageFacts(StageStatus.PENDING)).status

    def unmet_prerequisites(self, stage: StageDefinition) -> list[str]:
        return [k for k in stage.after if self.status(k) is not StageStatus.COMPLETED]

    @property
    def current_draft(self) -> DraftFact | None:
        return next((d for d in self.drafts if d.version == self.draft_version), None)

    @property
    def organ_members(self) -> dict[str, PersonFact]:
        """Members of the decision organ (the head included): people of an organ role
        whose unit is the organ."""
        return {h: p for h, p in self.people.items()
                if p.role in ORGAN_ROLES and p.unit == self.organ}

    @property
    def organ_head(self) -> PersonFact | None:
        heads = [p for p in self.organ_members.values() if p.role == Role.ORGAN_HEAD]
        return heads[0] if len(heads) == 1 else None
