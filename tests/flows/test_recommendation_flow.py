"""A recommendation's reply runs on the served major-decision flow: a procedure file,
no flow code of its own."""

from __future__ import annotations

from datetime import datetime

import pytest

from dueprocess.demo.submissions import BEIJING
from dueprocess.orchestration.case_runs import resume_after_recording, start_case_run
from dueprocess.services.case_clock import advance_clock_to
from dueprocess.services.case_view import case_view
from dueprocess.services.recording import record_evidence
from tests.flows.conftest import final_state, gate
from tests.support import RECOMMENDATION_STEPS, recommendation_case, token_for

pytestmark = [pytest.mark.flow, pytest.mark.slow]
RECORDED = {"assignment": datetime(2026, 9, 2, 10, tzinfo=BEIJING),
            "reply": datetime(2026, 10, 20, 10, tzinfo=BEIJING)}


def test_a_recommendation_is_answered_on_the_major_decision_flow(prefect_server: str) -> None:
    case_id = recommendation_case()
    run_id = start_case_run(case_id)
    gate(case_id)
    for stage, by, evidence in RECOMMENDATION_STEPS:
        advance_clock_to(case_id=case_id, moment=RECORDED[stage])
        item = record_evidence(case_id=case_id, stage_key=stage, recorded_by=by,
                               evidence=evidence, channel="cli", token=token_for(by))
        resume_after_recording(item, timeout=90)
    assert final_state(run_id).is_completed()
    view = case_view(case_id)
    assert [(s.key, s.status.value) for s in view.stages] == [
        ("assignment", "completed"), ("reply", "completed")]
    assert view.decision is not None and view.decision.outcome == "partly_adopted"
