"""Keep every open case driven: wake, restart or replace the flow run of a case.

Called by the resume-case deployment (on `dueprocess.evidence.recorded` and when a case's
run crashes or fails), by the deadline watchdog's sweep, by `dueprocess up` at start, and
by `dueprocess recover`. Everything here is idempotent: the case database says where the
case stands, and the flow run only has to be woken up or started again.

- A run suspended at its gate is resumed when the case moved on without it (the stages
  open now are not the ones its form offers, or the case was decided).
- A run that crashed or failed is rescheduled, the same run, so it gets back the input
  it was given at its gate (Prefect stores it under the pause key); after
  `DUEPROCESS_MAX_RUN_ATTEMPTS` attempts it is left for an operator, visibly.
- A case whose run is gone (a new Prefect database) gets a new run.
- A cancelled run is an operator's decision and is left alone unless `restart` is asked.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlmodel import col, select

from dueprocess.db import session_scope
from dueprocess.orchestration.run_names import case_run_name, case_run_tags
from dueprocess.services.cases import get_case
from dueprocess.services.gate_waits import latest_wait
from dueprocess.services.progress import advance_case
from dueprocess.settings import get_ops_settings, get_settings
from models.base import utcnow
from models.cases import CaseStatus, DecisionCase
from models.evidence import EvidenceItem
from models.stages import Stage, StageStatus

logger = logging.getLogger(__name__)

RESTARTABLE = frozenset({"CRASHED", "FAILED"})
ACTIVE = frozenset({"RUNNING", "PENDING", "SCHEDULED"})
CANCELLED = frozenset({"CANCELLED", "CANCELLING"})
# Prefect's runner cancels the runs it is executing when it shuts down: not a decision
# of anyone, so such a run is restarted like a crashed one.
RUNNER_SHUTDOWN = "Runner is shutting down."
# What recovery did that is worth reporting; "waits for …", "is Running", "closed" are the
# normal states.
NOTEWORTHY = ("started", "restarted", "resumed", "failed", "left")


def is_noteworthy(action: str) -> bool:
    return any(word in action for word in NOTEWORTHY)


@dataclass(frozen=True)
class DrivingRun:
    """The flow run that drives a case, as Prefect sees it."""

    run_id: str
    state_type: str | None  # Prefect StateType value, None when the run is not found
    state_name: str | None = None
    message: str | None = None
    pause_key: str | None = None
    run_count: int = 0

    @property
    def restartable(self) -> bool:
        """Crashed, failed, or cancelled only because its runner stopped."""
        return self.state_type in RESTARTABLE or (
            self.state_type in CANCELLED and (self.message or "").startswith(RUNNER_SHUTDOWN)
        )


@contextmanager
def prefect_client(timeout: float = 10.0) -> Iterator[Any]:
    """A sync client that fails fast instead of retrying for minutes."""
    from prefect.client.orchestration import get_client  # deferred: `status` imports this module
    from prefect.settings import (
        PREFECT_API_REQUEST_TIMEOUT,
        PREFECT_CLIENT_MAX_RETRIES,
        temporary_settings,
    )

    with temporary_settings({PREFECT_CLIENT_MAX_RETRIES: 2,
                             PREFECT_API_REQUEST_TIMEOUT: timeout}), \
            get_client(sync_client=True) as client:
        yield client


def read_driving_run(client: Any, run_id: str) -> DrivingRun:
    from prefect.exceptions import ObjectNotFound  # deferred: `status` imports this module

    try:
        run = client.read_flow_run(UUID(run_id))
    except ObjectNotFound:
        return DrivingRun(run_id, None)
    state = run.state
    if state is None:
        return DrivingRun(run_id, None)
    return DrivingRun(run_id, state.type.value, state.name, state.message,
                      state.state_details.pause_key, run.run_count)


def _start_run(case_id: str, *, previous: str | None) -> str:
    from prefect.deployments import run_deployment  # deferred: `status` imports this module

    run = run_deployment(
        get_settings().deployment_name, parameters={"case_id": case_id}, timeout=0,
        # A case that never had a run gets the one `dueprocess open` would have started
        # (same key: the same run if it is on its way); a replacement one of its own.
        idempotency_key=f"recover-{case_id}-{previous}" if previous else f"open-{case_id}",
        flow_run_name=case_run_name(case_id), tags=case_run_tags(case_id),
        as_subflow=False,  # called from a flow (resume-case, the watchdog): not a child
    )
    return str(run.id)  # type: ignore[union-attr]


def _reschedule(client: Any, run: DrivingRun) -> None:
    from prefect.states import Scheduled  # deferred: `status` imports this module

    # Back off a little more on each attempt, so a persistent fault does not spin.
    delay = min(2 ** max(run.run_count - 1, 0), 60)
    client.set_flow_run_state(
        UUID(run.run_id), Scheduled(scheduled_time=utcnow() + timedelta(seconds=delay),
                                    message="restarted by dueprocess recovery"),
        force=True,
    )


def _latest_evidence_id(case_id: str) -> int | None:
    with session_scope() as session:
        return session.exec(
            select(EvidenceItem.id).where(EvidenceItem.case_id == case_id)
            .order_by(col(EvidenceItem.id).desc())
        ).first()


def recover_case(case_id: str, *, restart: bool = False) -> str:
    """Make sure the case's flow run continues; say what was done.

    Raises `NotFound` for an unknown case and Prefect's errors when its API is down.
    """
    progress = advance_case(case_id=case_id)  # the database first: it is the truth
    with session_scope() as session:
        case: DecisionCase = get_case(session, case_id)
        wait = latest_wait(session, case_id)
    closed = case.status is CaseStatus.CLOSED
    run_id = case.flow_run_id
    if run_id is None:
        return "closed" if closed else f"started flow run {_start_run(case_id, previous=None)}"
    with prefect_client() as client:
        run = read_driving_run(client, run_id)
        if closed:
            if run.state_type == "PAUSED":  # let it see that the case is closed, and end
                return f"closed; {_wake(run_id, case_id)}"
            return "closed"
        if run.state_type is None:
            return (f"flow run {run_id} not found; started flow run "
                    f"{_start_run(case_id, previous=run_id)}")
        if run.state_type == "COMPLETED":
            return (f"flow run {run_id} completed but the case is open; started flow run "
                    f"{_start_run(case_id, previous=run_id)}")
        if run.state_type in ACTIVE:
            return f"flow run {run_id} is {run.state_name}"
        if run.state_type in CANCELLED and not run.restartable and not restart:
            return f"flow run {run_id} is {run.state_name}: left alone (cancelled by someone)"
        if run.state_type in RESTARTABLE | CANCELLED:
            if run.run_count >= get_ops_settings().max_run_attempts and not restart:
                return (f"flow run {run_id} {run.state_name} after {run.run_count} attempts: "
                        f"{run.message or 'no message'}; left for an operator")
            _reschedule(client, run)
            return f"restarted flow run {run_id} ({run.state_name}, attempt {run.run_count + 1})"
    # Paused (suspended) at a gate: wake it only if the case moved on without it.
    if wait is None or wait.consumed_at is not None or wait.flow_run_id != run_id or (
        run.pause_key != wait.key
    ):
        return f"flow run {run_id} is {run.state_name} (not at the case's gate)"
    if set(progress.open_stages) == set(wait.stage_keys):
        return f"flow run {run_id} waits for {', '.join(wait.stage_keys)}"
    return _wake(run_id, case_id)


def _wake(run_id: str, case_id: str) -> str:
    from dueprocess.orchestration.resume import (  # deferred: imports Prefect; `status` loads this
        REFERENCE_PROOF,
        resume_with_input,
    )

    response = resume_with_input(UUID(run_id), run_input={
        "recorded_by": "dueprocess", "recorded_evidence_id": _latest_evidence_id(case_id),
        "proof": REFERENCE_PROOF,
    })
    return f"resumed flow run {run_id} ({response.status.value.lower()})"


def recover_open_cases() -> list[tuple[str, str]]:
    """`recover_case` for every case that is not closed: (case id, what was done)."""
    with session_scope() as session:
        case_ids = list(session.exec(
            select(DecisionCase.id).where(DecisionCase.status != CaseStatus.CLOSED)
            .order_by(col(DecisionCase.opened_at))
        ))
    done = []
    for case_id in case_ids:
        try:
            done.append((case_id, recover_case(case_id)))
        except Exception as exc:  # one broken case must not stop the sweep
            logger.warning("case %s: recovery failed", case_id, exc_info=True)
            done.append((case_id, f"recovery failed: {type(exc).__name__}: {exc}"))
    return done + finish_closed_cases()


def finish_closed_cases() -> list[tuple[str, str]]:
    """Wake the suspended runs of cases that closed without them (the last evidence closes
    the case at once, and its recorder then has no gate to resume), so they complete."""
    from prefect.client.schemas.filters import (  # deferred: `status` imports this module
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    deployment = get_settings().deployment_name.split("/")[-1]
    done = []
    with prefect_client() as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(
                type=FlowRunFilterStateType(any_=[StateType.PAUSED]))),
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[deployment])),
            limit=200,
        )
    for run in runs:
        case_id = run.parameters.get("case_id")
        if not isinstance(case_id, str):
            continue
        with session_scope() as session:
            case = session.get(DecisionCase, case_id)
        if case is not None and case.status is CaseStatus.CLOSED and (
            case.flow_run_id == str(run.id)
        ):
            try:
                done.append((case_id, f"closed; {_wake(str(run.id), case_id)}"))
            except Exception as exc:
                done.append((case_id, f"recovery failed: {type(exc).__name__}: {exc}"))
    return done


def _behind(case_id: str) -> bool:
    """The run waits with a form for other stages than the ones open now."""
    with session_scope() as session:
        wait = latest_wait(session, case_id)
        open_now = set(session.exec(select(Stage.key).where(
            Stage.case_id == case_id, Stage.status == StageStatus.OPEN)))
    return wait is not None and wait.consumed_at is None and set(wait.stage_keys) != open_now


def describe_driving_run(case_id: str) -> str | None:
    """One line for `dueprocess status`: the state of the case's flow run, and what to do
    when it is stuck. None when no Prefect API is configured."""
    if not os.environ.get("PREFECT_API_URL"):  # checked first: importing Prefect takes 1 s
        return None
    with session_scope() as session:
        case = get_case(session, case_id)
    if case.flow_run_id is None:
        return "no flow run has driven this case yet (start one: dueprocess recover " \
               f"{case_id})"
    try:
        with prefect_client(timeout=5) as client:
            run = read_driving_run(client, case.flow_run_id)
    except Exception as exc:
        return (f"flow run {case.flow_run_id}: state unknown, the Prefect API at "
                f"{os.environ['PREFECT_API_URL']} does not answer ({type(exc).__name__})")
    head = f"flow run {run.run_id}"
    if run.state_type is None:
        return f"{head}: not found on this Prefect server; run: dueprocess recover {case_id}"
    line = f"{head}: {run.state_name}"
    if run.state_type == "PAUSED":
        if _behind(case_id):
            return (f"{line} at gate {run.pause_key}, behind the case (a resume was missed); "
                    f"the watchdog wakes it, or run: dueprocess recover {case_id}")
        return f"{line} at gate {run.pause_key}"
    if run.state_type in RESTARTABLE | CANCELLED:
        limit = get_ops_settings().max_run_attempts
        if case.status is CaseStatus.CLOSED:
            return line
        if run.restartable and run.run_count < limit:
            return (f"{line} ({run.message or 'no message'}); restarted automatically "
                    f"(attempt {run.run_count} of {limit})")
        return (f"{line} ({run.message or 'no message'}) — STUCK: fix the cause, then run: "
                f"dueprocess recover {case_id} --restart")
    return line
