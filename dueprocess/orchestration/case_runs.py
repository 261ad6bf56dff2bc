"""Talk to the Prefect flow run that drives a case: start it, and resume it after a CLI
or API recording."""

from __future__ import annotations

import time
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound

from dueprocess.db import session_scope
from dueprocess.orchestration.recovery import recover_case
from dueprocess.orchestration.resume import REFERENCE_PROOF, resume_with_input
from dueprocess.orchestration.run_names import case_run_name, case_run_tags
from dueprocess.services.cases import case_is_closed, get_case
from dueprocess.services.gate_waits import latest_wait
from dueprocess.settings import get_settings
from models.cases import CaseStatus
from models.evidence import EvidenceItem


def start_case_run(case_id: str) -> UUID:
    """Create the case's flow run on the served deployment (idempotent per case)."""
    run = run_deployment(
        get_settings().deployment_name, parameters={"case_id": case_id}, timeout=0,
        idempotency_key=f"open-{case_id}", flow_run_name=case_run_name(case_id),
        tags=case_run_tags(case_id),
        _sync=True,  # type: ignore[call-arg]  # also where an event loop runs (a portal)
    )
    return run.id  # type: ignore[union-attr]


def _gate_or_none(case_id: str, client: SyncPrefectClient) -> tuple[str, str] | bool | None:
    """(run id, key) when the case's run is paused at its pending wait, False when there is
    nothing to resume (case closed, or its run ended), None when it may still get there."""
    with session_scope() as session:
        case = get_case(session, case_id)
        wait = latest_wait(session, case_id)
    if case.status is CaseStatus.CLOSED:
        return False
    run_id = wait.flow_run_id if wait is not None and wait.consumed_at is None else case.flow_run_id
    if run_id is None:
        return None
    try:
        state = client.read_flow_run(UUID(run_id)).state
    except ObjectNotFound:
        return False
    if state is None:
        return None
    if state.is_final():
        return False
    if wait is not None and wait.consumed_at is None and state.is_paused() and (
        state.state_details.pause_key == wait.key
    ):
        return run_id, wait.key
    return None


def wait_for_gate(case_id: str, *, timeout: float) -> tuple[str, str] | None:
    """Wait until the case's run is paused at its pending wait; (flow run id, key) or None."""
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            gate = _gate_or_none(case_id, client)
            if gate is False:
                return None
            if isinstance(gate, tuple):
                return gate
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.2)


def finish_closed_case(case_id: str, *, timeout: float) -> str:
    """The case is closed: see its run end, waking it if it is suspended.

    A run that advanced the case just before the last evidence closed it goes on to
    suspend at a gate no one will resume; seeing it running is therefore not enough,
    so this waits until the run has ended or is suspended (and then wakes it).
    """
    deadline = time.monotonic() + timeout
    with session_scope() as session:
        run_id = get_case(session, case_id).flow_run_id
    if run_id is None:
        return "the case is closed"
    with get_client(sync_client=True) as client:
        while True:
            try:
                state = client.read_flow_run(UUID(run_id)).state
            except ObjectNotFound:
                return "the case is closed"
            if state is not None and state.is_final():
                return f"the case is closed; flow run {run_id} {state.name}"
            if state is not None and state.is_paused():
                return f"the case is {recover_case(case_id)}"  # "closed; resumed …"
            if time.monotonic() >= deadline:
                name = state.name if state is not None else "unknown"
                return (f"the case is closed; flow run {run_id} is {name} and finishes on "
                        "its own (or the watchdog wakes it)")
            time.sleep(0.2)


def resume_after_recording(item: EvidenceItem, *, timeout: float | None = None) -> str:
    """Resume the case's waiting run so that it sees `item`; say what happened.

    The evidence is already stored, so the run is handed only a reference to it. A run
    that is not at its gate yet reads the evidence from the database when it gets there;
    a run waiting when the evidence closed the case is woken to see that and finish.
    """
    timeout = get_settings().resume_wait_seconds if timeout is None else timeout
    gate = wait_for_gate(item.case_id, timeout=timeout)
    if gate is None:
        if case_is_closed(item.case_id):  # closing consumed the gate; let its run see it and end
            return finish_closed_case(item.case_id, timeout=timeout)
        return ("no flow run is waiting at a gate now; the case's run reads the evidence "
                "from the database when it next advances")
    flow_run_id, _key = gate
    response = resume_with_input(
        UUID(flow_run_id),
        run_input={"recorded_by": item.recorded_by, "recorded_evidence_id": item.id,
                   "proof": REFERENCE_PROOF},
    )
    if response.status.value != "ACCEPT":
        reason = str(getattr(response.details, "reason", None) or "unknown")
        if "not paused" in reason:  # woken since it was seen waiting (a trigger, a recorder)
            return (f"flow run {flow_run_id} is already continuing; it reads the evidence "
                    "from the database")
        return f"flow run {flow_run_id} could not be resumed: {reason}"
    return f"resumed flow run {flow_run_id}"
