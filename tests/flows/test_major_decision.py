"""The major-decision flow on a served deployment: suspend at each gate, resume, rerun."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

import pytest
from sqlmodel import func, select

from dueprocess.db import session_scope
from dueprocess.demo import submissions
from dueprocess.errors import Refused
from dueprocess.orchestration.case_runs import resume_after_recording
from dueprocess.orchestration.evidence_form import form_values
from dueprocess.orchestration.resume import SCHEMA_NOT_STORED_YET
from dueprocess.services.case_view import case_view
from dueprocess.services.recording import record_evidence
from dueprocess.stack.startup import reference_seconds
from models.decisions import Decision
from models.evidence import EvidenceItem, GateWait, Refusal
from models.procedure import load_procedure
from tests.flows.conftest import final_state, gate
from tests.support import VALID_STEPS, advance_to_step, form_code_for, startups, token_for

PROCEDURE = load_procedure("decree-713")

pytestmark = [pytest.mark.flow, pytest.mark.slow]


def counts(case_id: str) -> tuple[int, int, int]:
    with session_scope() as session:
        def count(model: type, where: Any) -> int:
            return session.exec(select(func.count()).select_from(model).where(where)).one()
        return (count(EvidenceItem, EvidenceItem.case_id == case_id),
                count(Decision, Decision.case_id == case_id),
                count(GateWait, GateWait.case_id == case_id))


def run_state(run_id: UUID | str) -> object:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(UUID(str(run_id))).state


def test_happy_path_decides_and_publishes(started_case: tuple[str, UUID]) -> None:
    case_id, run_id = started_case
    for stage, by, evidence in VALID_STEPS:
        advance_to_step(case_id, stage)  # the step's day on the case clock
        gate(case_id)  # the run waits at its gate: each recording resumes it, the last too
        item = record_evidence(case_id=case_id, stage_key=stage, recorded_by=by,
                               evidence=evidence, channel="cli", token=token_for(by))
        outcome = resume_after_recording(item, timeout=90)
        # (A trigger of an earlier recording may have woken it first: still continuing.)
        assert f"resumed flow run {run_id}" in outcome or outcome.startswith(
            f"flow run {run_id} is already continuing"), (stage, outcome)
    state = final_state(run_id)
    assert state.is_completed(), state
    view = case_view(case_id)
    assert view.case.status.value == "closed"
    assert [s.status.value for s in view.stages] == ["completed"] * 6
    assert view.decision is not None and view.decision.outcome == "approve"
    assert view.waiting is None
    recorded, decisions, _ = counts(case_id)
    assert (recorded, decisions) == (len(VALID_STEPS), 1)
    assert_one_task_run_per_start(run_id)


def assert_one_task_run_per_start(run_id: UUID) -> None:
    """Each start of the run (the first, and the rerun after each resume) costs one task
    run: its input is read at the gate first, then one pass records it and prepares the
    next gate."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        starts = [s for s in client.read_flow_run_states(run_id) if s.is_running()]
        task_runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
    assert len(starts) > len(VALID_STEPS)  # the first start and one per recording at least
    assert [t.name.rsplit("-", 1)[0] for t in task_runs] == ["advance-to-gate"] * len(starts)


def test_skipping_a_stage_is_refused_and_the_run_keeps_waiting(
    started_case: tuple[str, UUID],
) -> None:
    case_id, run_id = started_case
    before = gate(case_id)
    with pytest.raises(Refused, match="STAGE-ORDER"):
        record_evidence(case_id=case_id, stage_key="collective_decision",
                        recorded_by="zhao.li", evidence=submissions.MEETING, channel="cli",
                        token=token_for("zhao.li"))
    assert gate(case_id) == before
    state = run_state(run_id)
    assert state.is_paused()  # type: ignore[attr-defined]
    legality = next(s for s in case_view(case_id).stages if s.key == "legality_review")
    assert legality.status.value == "pending"
    assert "prerequisite stages not completed" in str(legality.blocked[0])


def test_invalid_then_valid_evidence_through_the_resume_form(
    started_case: tuple[str, UUID],
) -> None:
    from prefect.client.orchestration import get_client

    case_id, run_id = started_case
    flow_run_id, first_key = gate(case_id)
    with get_client(sync_client=True) as client:
        # The server refuses input that breaks the form's JSON schema; the run stays paused.
        # (Prefect pauses the run before it stores the form's schema: until then it
        # refuses any input with "schema not found", which is not the refusal tested here.)
        deadline = time.monotonic() + max(30, 10 * reference_seconds())
        while True:
            rejected = client.resume_flow_run(UUID(flow_run_id), run_input={
                "public_participation": submissions.PARTICIPATION})
            if SCHEMA_NOT_STORED_YET not in str(rejected.details):
                break
            assert time.monotonic() < deadline, "the run never stored its form's schema"
            time.sleep(0.2)
        assert rejected.status.value != "ACCEPT"
        assert "recorded_by" in str(rejected.details)
        assert run_state(run_id).is_paused()  # type: ignore[attr-defined]
        # A custom rule (the window as published) only runs in the flow: refused there,
        # the run continues.
        advance_to_step(case_id, "public_participation")  # the published window has closed
        accepted = client.resume_flow_run(UUID(flow_run_id), run_input={
            "recorded_by": "li.wei",
            "public_participation": form_values(PROCEDURE, "public_participation",
                                                submissions.PARTICIPATION_SHORT_WINDOW),
            "proof": form_code_for(case_id, "public_participation", "li.wei",
                                   submissions.PARTICIPATION_SHORT_WINDOW)})
        assert accepted.status.value == "ACCEPT"
    _, second_key = gate(case_id)
    assert second_key != first_key
    with session_scope() as session:
        wait = session.exec(select(GateWait).where(
            GateWait.case_id == case_id, GateWait.key == first_key)).one()
        refusal = session.get(Refusal, wait.refusal_id)
        assert refusal is not None and refusal.reasons[0]["rule"] == "PP-WINDOW-AS-PUBLISHED"
        assert refusal.channel == "prefect-form"
    assert counts(case_id)[0] == 0
    with get_client(sync_client=True) as client:
        client.resume_flow_run(UUID(flow_run_id), run_input={
            "recorded_by": "li.wei", "public_participation": form_values(
                PROCEDURE, "public_participation", submissions.PARTICIPATION),
            "proof": form_code_for(case_id, "public_participation", "li.wei",
                                   submissions.PARTICIPATION)})
    # Wait for the run to reach its next gate, not the one it was just resumed from.
    deadline = time.monotonic() + startups(100)
    while gate(case_id)[1] == second_key:
        assert time.monotonic() < deadline, "the run did not wait again"
        time.sleep(0.3)
    view = case_view(case_id)
    participation = next(s for s in view.stages if s.key == "public_participation")
    assert participation.status.value == "completed"
    assert run_state(run_id).is_paused()  # type: ignore[attr-defined]


def test_rerun_from_the_top_after_each_stage_repeats_nothing(
    started_case: tuple[str, UUID],
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.states import Scheduled

    case_id, run_id = started_case
    decision_recorded_at = None
    for number, (stage, by, evidence) in enumerate(VALID_STEPS, start=1):
        advance_to_step(case_id, stage)  # the step's day on the case clock
        record_evidence(case_id=case_id, stage_key=stage, recorded_by=by, evidence=evidence,
                        channel="cli", token=token_for(by))
        # No resume: reschedule the suspended run, so its body reruns from the top.
        with get_client(sync_client=True) as client:
            client.set_flow_run_state(run_id, Scheduled(), force=True)
        if number < len(VALID_STEPS):
            gate(case_id)
        recorded, decisions, _ = counts(case_id)
        assert recorded == number
        with session_scope() as session:
            decision = session.exec(select(Decision).where(Decision.case_id == case_id)).first()
        if decision is not None:
            decision_recorded_at = decision_recorded_at or decision.recorded_at
            assert decision.recorded_at == decision_recorded_at
        assert decisions <= 1
    assert final_state(run_id).is_completed()
    recorded, decisions, _ = counts(case_id)
    assert (recorded, decisions) == (len(VALID_STEPS), 1)
    assert case_view(case_id).case.status.value == "closed"
