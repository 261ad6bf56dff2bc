"""The second procedure runs on the same served flow: no flow code of its own."""

from __future__ import annotations

import pytest

from dueprocess.orchestration.case_runs import resume_after_recording, start_case_run
from dueprocess.services.case_view import case_view
from dueprocess.services.recording import record_evidence
from tests.flows.conftest import final_state, gate
from tests.support import NORMATIVE_STEPS, advance_to_step, normative_case, token_for

pytestmark = [pytest.mark.flow, pytest.mark.slow]


def test_a_normative_document_runs_on_the_major_decision_flow(prefect_server: str) -> None:
    case_id = normative_case()
    run_id = start_case_run(case_id)
    gate(case_id)
    for stage, by, evidence in NORMATIVE_STEPS:
        advance_to_step(case_id, stage)  # the step's day on the case clock
        item = record_evidence(case_id=case_id, stage_key=stage, recorded_by=by,
                               evidence=evidence, channel="cli", token=token_for(by))
        resume_after_recording(item, timeout=90)
    assert final_state(run_id).is_completed()
    view = case_view(case_id)
    assert view.case.procedure_id == "normative-document"
    assert [s.key for s in view.stages] == ["legality_review", "collective_decision",
                                            "publication", "filing"]
    assert all(s.status.value == "completed" for s in view.stages)
    assert view.decision is not None and view.decision.outcome == "approve"
