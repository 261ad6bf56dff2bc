"""Resume a paused flow run with its input, riding out the server's passing refusals."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.responses import (
    OrchestrationResult,
    SetStateStatus,
    StateRejectDetails,
)
from prefect.exceptions import PrefectHTTPStatusError
from prefect.input.run_input import keyset_from_base_key
from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings

from dueprocess.settings import get_settings

# The proof of an internal resume, one that hands the run a reference to evidence already
# recorded (`recorded_evidence_id`) or wakes it: the form requires a proof, and the
# reference is checked against the case database instead.
REFERENCE_PROOF = "evidence-reference"
SCHEMA_NOT_STORED_YET = "Run input schema not found"
# Said of a resume that lost a race to another resume of the same gate (the recorder's and
# the resume-case trigger's): worded as the server words a run that is no longer paused.
LOST_THE_RACE = ("Cannot resume a flow run that is not paused: another resume of this gate "
                 "stored its input first")


def resume_with_input(
    flow_run_id: UUID, *, run_input: dict[str, Any], attempts: int = 60
) -> OrchestrationResult[Any]:
    """Resume a paused run, retrying two passing refusals quickly.

    - A Prefect server on SQLite answers 503 while it persists the events of the run that
      just paused; the client's own back-off waits 2 s and more, which would dominate the
      latency of every gate, so this retries within tens of milliseconds instead.
    - A run becomes Paused before its flow stores the input's schema (Prefect's
      `suspend_flow_run` sets the state first), so a resume sent in between is rejected
      with "Run input schema not found."; it is retried the same way.

    Two resumes of one gate at once both see the run paused; the server stores the input
    of the first to commit and answers the other 409 (the input's key is unique), rolling
    its state change back. The run is resumed either way, so the loser is told so as a
    rejection (LOST_THE_RACE), not an error.
    """
    with temporary_settings({PREFECT_CLIENT_MAX_RETRIES: 0}), get_client(
        sync_client=True
    ) as client:
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                result = client.resume_flow_run(flow_run_id, run_input=run_input)
            except PrefectHTTPStatusError as exc:
                if exc.response.status_code == 409:
                    return OrchestrationResult(
                        state=None, status=SetStateStatus.REJECT,
                        details=StateRejectDetails(reason=LOST_THE_RACE))
                if exc.response.status_code != 503 or last:
                    raise
            else:
                reason = getattr(result.details, "reason", None) or ""
                if last or not reason.startswith(SCHEMA_NOT_STORED_YET):
                    return result
            time.sleep(min(0.02 * 2**attempt, 0.5))
    raise AssertionError("unreachable")


def response_key(key: str) -> str:
    """The key under which Prefect keeps what the form sent to gate `key`: the gate's wait
    is a pause or a suspension, as DUEPROCESS_WAIT_MODE says."""
    state_name = "paused" if get_settings().wait_mode == "pause" else "suspended"
    return keyset_from_base_key(f"{state_name}-{key}")["response"]


def forget_input(flow_run_id: UUID, *, key: str) -> None:
    """Delete what the gate `key` received (evidence, proof) from Prefect's database, once
    the case database holds it: the form input is Prefect's copy, and the form code or the
    evidence must not stay there."""
    with get_client(sync_client=True) as client:
        try:
            client.delete_flow_run_input(flow_run_id, response_key(key))
        except PrefectHTTPStatusError as exc:
            if exc.response.status_code != 404:
                raise
