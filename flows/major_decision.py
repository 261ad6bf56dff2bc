"""Drive one major administrative decision case through its statutory stages.

The case database is the only source of truth: each pass of the loop opens and closes
stages from the recorded evidence, then waits at the gate for the next submission. With
`wait_mode=suspend` (the default, on a served deployment) the wait holds no process and
Prefect reruns the body from the top on resume; every step is idempotent, so the rerun
picks up where the database says the case stands.

Reviewers complete a stage through the run's resume form in the Prefect UI, or with
`dueprocess record`, which stores the evidence and resumes the run.
"""

from __future__ import annotations

from typing import Annotated, Any

from prefect import flow, get_run_logger, pause_flow_run, suspend_flow_run
from prefect.context import get_run_context
from prefect.input.actions import read_flow_run_input
from prefect.input.run_input import keyset_from_base_key
from pydantic import BaseModel, Field, ValidationError

from dueprocess.db import session_scope
from dueprocess.services.cases import get_case
from dueprocess.settings import get_settings
from flows.evidence_form import evidence_from_form, submission_form
from flows.gate_description import describe_gate
from models.cases import CaseStatus
from models.evidence import GateWait
from models.procedure import ProcedureDefinition
from tasks.claims import claim_case
from tasks.evidence import record_received, wait_for_stages
from tasks.stages import open_and_close_stages

CaseId = Annotated[str, Field(pattern=r"^[a-z0-9-]{1,32}$", description="Decision case id")]


class CaseOutcome(BaseModel):
    case_id: str
    status: CaseStatus
    detail: str


def _procedure(case_id: str) -> ProcedureDefinition:
    with session_scope() as session:
        return ProcedureDefinition.model_validate(get_case(session, case_id).procedure)


def _closed(case_id: str) -> bool:
    with session_scope() as session:
        return get_case(session, case_id).status is CaseStatus.CLOSED


def _wait_for_submission(procedure: ProcedureDefinition, wait: GateWait) -> dict[str, Any] | None:
    """Block at the gate until a submission arrives; return it as plain JSON data, with
    the form's yes/no choices as the booleans the evidence schemas expect."""
    raw = _receive(procedure, wait)
    return evidence_from_form(procedure, raw) if raw is not None else None


def _describe(wait: GateWait) -> str | None:
    """The form's description; a failure to write it must not stop the case at its gate."""
    try:
        return describe_gate(wait.case_id, wait.stage_keys)
    except Exception:
        get_run_logger().warning("gate %s: no description for the form", wait.key,
                                 exc_info=True)
        return None


def _receive(procedure: ProcedureDefinition, wait: GateWait) -> dict[str, Any] | None:
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
        state_name = "paused" if settings.wait_mode == "pause" else "suspended"
        raw = read_flow_run_input(keyset_from_base_key(f"{state_name}-{wait.key}")["response"])
        return raw if isinstance(raw, dict) else None
    return received.model_dump(mode="json")


@flow(name="major-decision", persist_result=True, validate_parameters=True)
def major_decision(case_id: CaseId) -> CaseOutcome:
    logger = get_run_logger()
    flow_run_id = str(get_run_context().flow_run.id)  # type: ignore[union-attr]
    holder = claim_case(case_id, flow_run_id)
    if holder is not None:
        logger.warning("case %s is driven by flow run %s; this run stops", case_id, holder)
        return CaseOutcome(case_id=case_id, status=CaseStatus.OPEN,
                           detail=f"superseded: driven by flow run {holder}")
    procedure = _procedure(case_id)
    while True:
        progress = open_and_close_stages(case_id)
        for transition in progress.transitions:
            logger.info("case %s: %s", case_id, transition)
        if progress.closed:
            return CaseOutcome(case_id=case_id, status=progress.status, detail="all stages done")
        for stage_key, unmet in progress.blocked.items():
            logger.info("gate %s blocked: %s", stage_key, "; ".join(map(str, unmet)))
        wait = wait_for_stages(case_id, flow_run_id, progress.open_stages)
        if _closed(case_id):
            # The last evidence closed the case after this pass advanced it: its recorder
            # found no gate to resume, so do not suspend at one; the next pass returns.
            record_received(case_id, wait.key, None)
            continue
        raw = _wait_for_submission(procedure, wait)
        outcome = record_received(case_id, wait.key, raw)
        if outcome.reasons:
            logger.warning("submission refused: %s", "; ".join(outcome.reasons))
