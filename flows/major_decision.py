"""Drive one major administrative decision case through its statutory stages.

The case database is the only source of truth: each pass of the loop is one task run
that records what the gate received, opens and closes stages from the recorded evidence
and prepares the next wait; then the run waits at that gate for the next submission. With
`wait_mode=suspend` (the default, on a served deployment) the wait holds no process and
Prefect reruns the body from the top on resume; the rerun reads its input at the gate the
database says it waits at, and every step is idempotent, so it picks up where the case
stands.

Reviewers complete a stage through the run's resume form in the Prefect UI, or with
`dueprocess record`, which stores the evidence and resumes the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from prefect import flow, get_run_logger, pause_flow_run, suspend_flow_run
from prefect.context import get_run_context
from prefect.input.actions import read_flow_run_input
from pydantic import BaseModel, Field, ValidationError

# The case services, models and forms are imported where they are used, so loading the
# flow (to serve or deploy it) costs Prefect's import and little more.
if TYPE_CHECKING:
    from dueprocess.orchestration.gate_step import GateStep, Received
    from models.evidence import GateWait
    from models.procedure import ProcedureDefinition

CaseId = Annotated[str, Field(pattern=r"^[a-z0-9-]{1,32}$", description="Decision case id")]


class CaseOutcome(BaseModel):
    case_id: str
    status: Literal["open", "decided", "closed"]  # models.cases.CaseStatus
    detail: str


def _procedure(case_id: str) -> ProcedureDefinition:
    from dueprocess.db import session_scope
    from dueprocess.services.cases import get_case
    from models.procedure import ProcedureDefinition

    with session_scope() as session:
        return ProcedureDefinition.model_validate(get_case(session, case_id).procedure)


def _received_at(procedure: ProcedureDefinition, wait: GateWait) -> Received:
    """Block at the gate until a submission arrives; return it as plain JSON data, with
    the form's yes/no choices as the booleans the evidence schemas expect."""
    from dueprocess.orchestration.evidence_form import evidence_from_form
    from dueprocess.orchestration.gate_step import Received

    raw = _receive(procedure, wait)
    return Received(key=wait.key,
                    raw=evidence_from_form(procedure, raw) if raw is not None else None)


def _forget(flow_run_id: str, key: str) -> None:
    """The gate's input is in the case database now (recorded, or refused and audited):
    delete Prefect's copy. A failure is logged; the next pass at the gate does not need it."""
    from uuid import UUID

    from dueprocess.orchestration.resume import forget_input

    try:
        forget_input(UUID(flow_run_id), key=key)
    except Exception:
        get_run_logger().warning("gate %s: its input could not be deleted from Prefect", key,
                                 exc_info=True)


def _log_step(logger: Any, step: GateStep) -> None:
    if step.received is not None and step.received.reasons:
        logger.warning("submission refused: %s", "; ".join(step.received.reasons))
    assert step.progress is not None
    for transition in step.progress.transitions:
        logger.info("case %s: %s", step.progress.case_id, transition)
    for stage_key, unmet in step.progress.blocked.items():
        logger.info("gate %s blocked: %s", stage_key, "; ".join(map(str, unmet)))


def _describe(wait: GateWait) -> str | None:
    """The form's description; a failure to write it must not stop the case at its gate."""
    from dueprocess.orchestration.gate_description import describe_gate

    try:
        return describe_gate(wait.case_id, wait.stage_keys)
    except Exception:
        get_run_logger().warning("gate %s: no description for the form", wait.key,
                                 exc_info=True)
        return None


def _receive(procedure: ProcedureDefinition, wait: GateWait) -> dict[str, Any] | None:
    from dueprocess.orchestration.evidence_form import submission_form
    from dueprocess.orchestration.resume import response_key
    from dueprocess.settings import get_settings

    settings = get_settings()
    form = submission_form(procedure, wait.stage_keys, description=_describe(wait))
    try:
        if settings.wait_mode == "pause":
            received = pause_flow_run(
                wait_for_input=form, key=wait.key, timeout=settings.pause_timeout_seconds,
                poll_interval=settings.pause_poll_seconds,
            )
        else:
            received = suspend_flow_run(wait_for_input=form, key=wait.key, timeout=None)
    except ValidationError:
        # Prefect's server checks only the JSON schema; a custom validator failed in here.
        # Hand the raw input to the recording function, which refuses it with the reason.
        raw = read_flow_run_input(response_key(wait.key))
        return raw if isinstance(raw, dict) else None
    return received.model_dump(mode="json")


@flow(name="major-decision", persist_result=True, validate_parameters=True)
def major_decision(case_id: CaseId) -> CaseOutcome:
    from dueprocess.composition.journal import wire
    from dueprocess.services.gate_waits import waiting_gate
    from tasks.gates import advance_to_gate

    wire()
    logger = get_run_logger()
    flow_run_id = str(get_run_context().flow_run.id)  # type: ignore[union-attr]
    procedure = _procedure(case_id)
    # A rerun resumed at its gate reads its input first: one task run per resume.
    pending = waiting_gate(case_id=case_id, flow_run_id=flow_run_id)
    received = _received_at(procedure, pending) if pending is not None else None
    while True:
        step = advance_to_gate(case_id, flow_run_id, received)
        if received is not None:
            _forget(flow_run_id, received.key)
        if step.superseded_by is not None:
            logger.warning("case %s is driven by flow run %s; this run stops",
                           case_id, step.superseded_by)
            return CaseOutcome(case_id=case_id, status="open",
                               detail=f"superseded: driven by flow run {step.superseded_by}")
        _log_step(logger, step)
        assert step.progress is not None
        if step.wait is None:
            return CaseOutcome(case_id=case_id, status=step.progress.status.value,
                               detail="all stages done")
        received = _received_at(procedure, step.wait)
