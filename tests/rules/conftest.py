"""Build in-memory case snapshots for rule tests: no database, no Prefect."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from dueprocess.rules import CaseFacts, EvidenceFact, StageFacts
from models.procedure import ProcedureDefinition, load_procedure
from models.stages import StageStatus

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ASSIGNED = {
    "public_participation": "li.wei", "expert_review": "prof.zhang",
    "risk_assessment": "liu.yang", "legality_review": "sun.hao",
    "collective_decision": "zhao.li", "publication": "qian.yu",
}

FactsFactory = Callable[..., CaseFacts]


@pytest.fixture(scope="session")
def procedure() -> ProcedureDefinition:
    return load_procedure("decree-713")


@pytest.fixture
def make_facts(procedure: ProcedureDefinition) -> FactsFactory:
    """make_facts(completed=[...], evidence=[(stage, payload, recorder?)])."""

    def _make(
        *, completed: tuple[str, ...] = (), evidence: tuple[tuple[Any, ...], ...] = ()
    ) -> CaseFacts:
        stages = {}
        for stage in procedure.stages:
            if stage.key in completed:
                status = StageStatus.COMPLETED
            elif all(k in completed for k in stage.after):
                status = StageStatus.OPEN
            else:
                status = StageStatus.PENDING
            stages[stage.key] = StageFacts(status)
        items = []
        for index, (stage_key, payload, *recorder) in enumerate(evidence, start=1):
            model = procedure.stage(stage_key).stage_kind.evidence.model_validate(payload)
            items.append(EvidenceFact(
                id=index, stage_key=stage_key, evidence=model,
                recorded_by=recorder[0] if recorder else ASSIGNED[stage_key],
                recorded_at=NOW, draft_version=1,
            ))
        assignments = {k: frozenset({v}) for k, v in ASSIGNED.items()}
        assignments["expert_review"] = frozenset({"prof.zhang", "prof.chen", "dr.zhou"})
        return CaseFacts(case_id="dp-test", procedure=procedure, stages=stages,
                         evidence=tuple(items), assignments=assignments)

    return _make
