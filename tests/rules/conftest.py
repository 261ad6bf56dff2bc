"""Build in-memory case snapshots for rule tests: no database, no Prefect.

The snapshot is the demo case (dueprocess/demo/case.yaml): its people, units, organ,
declarations and panel note, so the demo submissions pass every rule and each test
changes only what its rule is about.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from dueprocess.clock import comment_window_close
from dueprocess.demo import submissions
from dueprocess.rules import CaseFacts, EvidenceFact, StageFacts
from dueprocess.rules.facts import DeclarationFact, DraftFact, PersonFact, WindowFact
from dueprocess.services.cases import read_case_file
from models.cases import CaseCreate, text_sha256
from models.procedure import ProcedureDefinition, load_procedure
from models.stages import StageStatus
from tests.conftest import DEMO_CASE

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
# What dueprocess witnessed of the demo case on its simulated clock (case.yaml): opened
# on 2026-09-01 09:00 in Beijing, the call for comments published then for 30 days, each
# stage recorded on its day (submissions.RECORDED_ON).
OPENED_AT = submissions.STARTS_AT
# Open until 24:00 Beijing time of its last published day, 2026-10-01.
WINDOW = WindowFact(OPENED_AT, comment_window_close(OPENED_AT, 30, "Asia/Shanghai"))
ASSIGNED = {
    "public_participation": "li.wei", "expert_review": "prof.zhang",
    "risk_assessment": "liu.yang", "legality_review": "sun.hao",
    "collective_decision": "zhao.li", "publication": "qian.yu",
}
UPSTREAM = ("public_participation", "expert_review", "risk_assessment")
DECIDED = (*UPSTREAM, "legality_review", "collective_decision")

FactsFactory = Callable[..., CaseFacts]


@pytest.fixture(scope="session")
def procedure() -> ProcedureDefinition:
    return load_procedure("decree-713")


@pytest.fixture(scope="session")
def demo_request() -> CaseCreate:
    return read_case_file(DEMO_CASE)


def demo_facts(request: CaseCreate, procedure: ProcedureDefinition) -> CaseFacts:
    """The demo case just opened: no stage completed, no evidence."""
    people = {p.handle: PersonFact(p.handle, p.name, p.role.value, p.unit,
                                   public_keys=(p.public_key,) if p.public_key else ())
              for p in request.people}
    return CaseFacts(
        case_id="dp-test", procedure=procedure,
        stages={s.key: StageFacts(StageStatus.PENDING) for s in procedure.stages},
        assignments={k: frozenset(v) for k, v in request.assignments.items()},
        organ=request.organ, undertaking_unit=request.undertaking_unit,
        opened_by=request.opened_by, legal_basis=tuple(request.legal_basis),
        proposal_source=request.proposal_source, proposal=request.proposal,
        consultations=tuple(request.consultations), people=people,
        drafts=(DraftFact(1, text_sha256(request.draft.text)),),
        declarations={
            stage: {h: DeclarationFact(d.direct_interest, d.interests, d.declared_on)
                    for h, d in panel.declarations.items()}
            for stage, panel in request.expert_panels.items()
        },
        panel_notes={stage: panel.composition_note or ""
                     for stage, panel in request.expert_panels.items()},
        opened_at=OPENED_AT, comment_window=WINDOW,
    )


def _recorded(stage_key: str) -> datetime:
    return submissions.recorded_at(stage_key) if stage_key in submissions.RECORDED_ON else NOW


@pytest.fixture
def make_facts(procedure: ProcedureDefinition, demo_request: CaseCreate) -> FactsFactory:
    """make_facts(completed=[...], evidence=[(stage, payload, recorder?, draft?)], **fields).

    Stages whose prerequisites are completed are open; `fields` replace CaseFacts fields
    (e.g. draft_version=2, procedure=another)."""

    def _make(
        *, completed: tuple[str, ...] = (), evidence: tuple[tuple[Any, ...], ...] = (),
        **fields: Any,
    ) -> CaseFacts:
        facts = replace(demo_facts(demo_request, procedure), **fields)
        stages = {}
        for stage in facts.procedure.stages:
            # Witnessed: a stage opens when its last prerequisite was recorded, and
            # completes on the day its evidence was recorded.
            opened = max((_recorded(k) for k in stage.after), default=OPENED_AT)
            if stage.key in completed:
                stages[stage.key] = StageFacts(StageStatus.COMPLETED, opened,
                                               _recorded(stage.key))
            elif all(k in completed for k in stage.after):
                stages[stage.key] = StageFacts(StageStatus.OPEN, opened)
            else:
                stages[stage.key] = StageFacts(StageStatus.PENDING)
        items = []
        for index, (stage_key, payload, *rest) in enumerate(evidence, start=1):
            recorder = rest[0] if rest else ASSIGNED[stage_key]
            draft = rest[1] if len(rest) > 1 else 1
            model = facts.procedure.stage(stage_key).stage_kind.evidence.model_validate(payload)
            items.append(EvidenceFact(
                id=index, stage_key=stage_key, evidence=model, recorded_by=recorder,
                recorded_at=_recorded(stage_key), draft_version=draft,
                payload_sha256=f"{index:064x}",
            ))
        return replace(facts, stages=stages, evidence=tuple(items))

    return _make
