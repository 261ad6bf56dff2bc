"""Resuming a paused run (`dueprocess.orchestration.resume`), against the session's server."""

from __future__ import annotations

import json
import threading
import time
from typing import Any
from uuid import UUID

import pytest

from dueprocess.orchestration.resume import LOST_THE_RACE, resume_with_input

pytestmark = pytest.mark.flow
SCHEMA = {"type": "object", "properties": {"recorded_evidence_id": {"type": "integer"}}}


def paused_at_a_gate(client: Any, name: str) -> tuple[UUID, dict[str, str]]:
    """A run of a new flow `name` set Paused at gate-1 as `suspend_flow_run` sets it, before
    its flow stores the input's schema: its id and its run-input keys."""
    from prefect import flow
    from prefect.client.schemas.objects import State
    from prefect.input.run_input import keyset_from_paused_state
    from prefect.states import Paused, Running

    @flow(name=name)
    def paused_flow() -> None:
        pass

    run = client.create_flow_run(paused_flow)
    client.set_flow_run_state(run.id, Running(), force=True)
    paused: State[None] = Paused(timeout_seconds=300, pause_key="gate-1")
    keyset = {str(k): v for k, v in keyset_from_paused_state(paused).items()}
    paused.state_details.run_input_keyset = keyset
    client.set_flow_run_state(run.id, paused, force=True)
    return run.id, keyset


def test_a_resume_sent_before_the_run_stored_its_input_schema_is_retried(
    prefect_server: str,
) -> None:
    """Prefect's pause sets the Paused state before it stores the input's schema; a resume
    in between is rejected by the server, so it is retried until the schema is there."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        run_id, keyset = paused_at_a_gate(client, "schema-race")

        def store_schema_late() -> None:
            time.sleep(0.5)
            with get_client(sync_client=True) as late:
                late.create_flow_run_input(run_id, key=keyset["schema"],
                                           value=json.dumps(SCHEMA))

        storing = threading.Thread(target=store_schema_late)
        storing.start()
        result = resume_with_input(run_id, run_input={"recorded_evidence_id": 7})
        storing.join()
        assert result.status.value == "ACCEPT", result.details
        stored = client.read_flow_run_input(run_id, key=keyset["response"])
        assert json.loads(stored) == {"recorded_evidence_id": 7}
        state = client.read_flow_run(run_id).state
        assert state is not None and state.is_running()


def test_a_resume_that_loses_the_race_for_a_gate_is_told_so_not_raised(
    prefect_server: str,
) -> None:
    """The server answers 409 to the second of two resumes of one gate (the first stored
    the gate's input); the loser hears that the run is not paused any more."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        run_id, keyset = paused_at_a_gate(client, "resume-race")
        client.create_flow_run_input(run_id, key=keyset["schema"], value=json.dumps(SCHEMA))
        # The winner's input is stored; its state change is what this test leaves out, so
        # the server sees the window in which both resumes found the run paused.
        client.create_flow_run_input(run_id, key=keyset["response"],
                                     value=json.dumps({"recorded_evidence_id": 1}))
        result = resume_with_input(run_id, run_input={"recorded_evidence_id": 2})
        assert result.status.value == "REJECT"
        assert getattr(result.details, "reason", None) == LOST_THE_RACE
        assert "not paused" in LOST_THE_RACE  # what the recorder reads as "already continuing"
        assert json.loads(client.read_flow_run_input(run_id, key=keyset["response"])) == {
            "recorded_evidence_id": 1}  # the winner's input, untouched
