"""Record what a resumed run received at its gate."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from dueprocess.services.gate_waits import WaitOutcome, consume_wait, prepare_wait
from models.evidence import GateWait


@task(name="prepare-wait", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def wait_for_stages(case_id: str, flow_run_id: str, stage_keys: list[str]) -> GateWait:
    return prepare_wait(case_id=case_id, flow_run_id=flow_run_id, stage_keys=stage_keys)


@task(name="record-evidence", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def record_received(case_id: str, key: str, raw: dict[str, Any] | None) -> WaitOutcome:
    """Validate and store the submission (or its refusal); idempotent per wait key."""
    return consume_wait(case_id=case_id, key=key, raw=raw)
