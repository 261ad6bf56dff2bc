"""A case whose run stopped or missed a resume is visible in `dueprocess status`, and
recovery drives it on (on the session's Prefect server and served deployments)."""

from __future__ import annotations

from uuid import UUID

import pytest

from dueprocess.orchestration.recovery import describe_driving_run, recover_case
from dueprocess.services.recording import record_evidence
from tests.flows.conftest import gate
from tests.support import VALID_STEPS, advance_to_step, token_for

pytestmark = [pytest.mark.flow, pytest.mark.slow]


@pytest.fixture(autouse=True)
def api_in_environment(prefect_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", prefect_server)  # as `dueprocess status` sees it


def test_a_cancelled_run_is_shown_stuck_and_restarted_only_on_request(
    started_case: tuple[str, UUID],
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelled

    case_id, run_id = started_case
    _, first_key = gate(case_id)
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(run_id, Cancelled(message="cancelled by an operator"),
                                  force=True)
    line = describe_driving_run(case_id)
    assert line is not None and "Cancelled" in line and "STUCK" in line
    assert f"dueprocess recover {case_id} --restart" in line
    assert "left alone" in recover_case(case_id)
    assert "restarted flow run" in recover_case(case_id, restart=True)
    run, key = gate(case_id)
    assert run == str(run_id) and key != first_key  # the same run, waiting again
    assert describe_driving_run(case_id) == f"flow run {run_id}: Suspended at gate {key}"


def test_a_run_that_missed_its_resume_is_flagged_and_woken(
    started_case: tuple[str, UUID],
) -> None:
    case_id, run_id = started_case
    _, first_key = gate(case_id)
    stage, by, evidence = VALID_STEPS[0]
    advance_to_step(case_id, stage)  # the published window has closed
    # Recorded as if by the run's own form, so no trigger wakes the run: a missed resume.
    record_evidence(case_id=case_id, stage_key=stage, recorded_by=by, evidence=evidence,
                    channel="prefect-form", token=token_for(by))
    line = describe_driving_run(case_id)
    assert line is not None and "behind the case" in line, line
    assert "resumed flow run" in recover_case(case_id)
    run, key = gate(case_id)
    assert run == str(run_id) and key != first_key
    assert "behind" not in (describe_driving_run(case_id) or "")
