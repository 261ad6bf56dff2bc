"""How the system's own runs are named: `deliver-notices 15:32`, the deployment and the
Beijing time the run was scheduled for, instead of Prefect's random `witty-otter`. Their
deployments also carry the tag `system` (deployments.definitions), by which the Prefect
UI hides them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from prefect.runtime import deployment, flow_run

BEIJING = ZoneInfo("Asia/Shanghai")


def system_run_name() -> str:
    """`<deployment> HH:MM` (Beijing time), with the case for a run about one case."""
    name = deployment.name or flow_run.flow_name or "system"
    scheduled = flow_run.scheduled_start_time
    moment = scheduled if isinstance(scheduled, datetime) else datetime.now(UTC)
    parameters = flow_run.parameters or {}
    case_id = parameters.get("case_id")
    about = f" {case_id}" if isinstance(case_id, str) and case_id else ""
    return f"{name}{about} {moment.astimezone(BEIJING):%H:%M}"
