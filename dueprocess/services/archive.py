"""The decision archive of a case (决策档案, Decree 713 Art. 33), as one view.

Each draft version with its hash, every stage's evidence with its digest and the draft it
concerns, the risk level, the legality review package, the decision, the late duties, and
whether the archive is complete. `dueprocess archive CASE` prints it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from dueprocess.db import session_scope
from dueprocess.rules import archive, case_flags
from dueprocess.rules.engine import RuleContext, Unmet
from dueprocess.rules.package import assemble_package
from dueprocess.services.case_clock import case_now
from dueprocess.services.case_snapshot import load_facts
from dueprocess.services.cases import get_case
from models.cases import DecisionCase, DraftVersion, text_sha256
from models.decisions import Decision
from models.evidence_schemas import RiskAssessmentEvidence
from models.stages import StageStatus


@dataclass(frozen=True)
class DraftEntry:
    version: int
    title: str
    sha256: str
    intact: bool
    created_at: datetime
    created_by: str | None
    reason: str | None


@dataclass(frozen=True)
class EvidenceEntry:
    id: int
    recorded_by: str
    draft_version: int
    sha256: str
    intact: bool
    counts: bool  # still judged by the gate (not superseded by a revision or a later item)


@dataclass(frozen=True)
class StageEntry:
    key: str
    title: str
    articles: str
    status: StageStatus
    evidence: list[EvidenceEntry]


@dataclass(frozen=True)
class CaseArchive:
    case: DecisionCase
    drafts: list[DraftEntry]
    stages: list[StageEntry]
    risk_level: str | None
    legality_packages: dict[str, str]  # legality stage key -> package SHA-256
    decision: Decision | None
    flags: list[Unmet]
    missing: list[str]  # why the archive is not complete (empty: complete)

    @property
    def complete(self) -> bool:
        return not self.missing


def case_archive(case_id: str, *, now: datetime | None = None) -> CaseArchive:
    """The archive of a case, its late duties judged at `now` (default: the case clock,
    the simulated time of a case that runs on one, as `status` judges its gates)."""
    with session_scope() as session:
        case = get_case(session, case_id)
        now = now or case_now(session, case_id)
        facts = load_facts(session, case)
        drafts = [
            DraftEntry(d.version, d.title, d.sha256, text_sha256(d.text) == d.sha256,
                       d.created_at, d.created_by, d.reason)
            for d in session.exec(select(DraftVersion).where(DraftVersion.case_id == case_id)
                                  .order_by(col(DraftVersion.version)))
        ]
        decision = session.exec(select(Decision).where(Decision.case_id == case_id)).first()
    stages = []
    for stage in facts.procedure.stages:
        counted = {item.id for item in facts.current_evidence(stage.key)}
        stages.append(StageEntry(
            stage.key, stage.title, stage.articles, facts.status(stage.key),
            [EvidenceEntry(i.id, i.recorded_by, i.draft_version, i.payload_sha256,
                           i.evidence is not None, i.id in counted)
             for i in facts.evidence_for(stage.key)],
        ))
    risks = [m for m in facts.current_models("risk_assessment")
             if isinstance(m, RiskAssessmentEvidence)]
    closing = facts.procedure.closing_stages[0]
    context = RuleContext(facts=facts, stage=closing, now=now, params=closing.gate_params)
    return CaseArchive(
        case=case, drafts=drafts, stages=stages,
        risk_level=risks[-1].level if risks else None,
        legality_packages={s.key: assemble_package(facts, s.key).sha256
                           for s in facts.procedure.stages_of_kind("legality_review")},
        decision=decision, flags=case_flags(facts, now),
        missing=list(archive.dossier_complete(context)),
    )
