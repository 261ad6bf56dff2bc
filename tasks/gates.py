"""The one task run of each pass of a case's flow run."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from dueprocess.orchestration.gate_step import GateStep, Received, step_to_gate


@task(name="advance-to-gate", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def advance_to_gate(case_id: str, flow_run_id: str, received: Received | None) -> GateStep:
    """Claim the case, record what the gate received, open and close stages (recording
    the decision with the deciding stage), and prepare the next gate's wait."""
    return step_to_gate(case_id=case_id, flow_run_id=flow_run_id, received=received)
