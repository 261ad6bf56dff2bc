"""Keep a case's flow run going after something happened to the case.

Triggered by `dueprocess.evidence.recorded` (evidence recorded through any channel: the
CLI, the HTTP API, the portal, another system) and by a crashed or failed run of the
major-decision deployment. It advances the case from the database and then wakes the
waiting run, restarts the crashed one, or starts a new one (`dueprocess.orchestration.recovery`).

Its parameters come from an event, so they are checked here rather than by Prefect: an
unknown case or a malformed payload is logged and ignored, and the run still completes.
"""

from __future__ import annotations

import re
from typing import Any

from prefect import flow, get_run_logger
from pydantic import BaseModel

from flows.system_runs import system_run_name

CASE_ID = re.compile(r"^[a-z0-9-]{1,32}$")


class ResumeOutcome(BaseModel):
    case_id: str | None
    action: str


@flow(name="resume-case", flow_run_name=system_run_name, validate_parameters=False,
      log_prints=False)
def resume_case(
    case_id: Any = None, evidence_id: Any = None, reason: str = "event"
) -> ResumeOutcome:
    # The case services are imported when the flow runs, not whenever it is loaded.
    from dueprocess.composition.journal import wire
    from dueprocess.errors import NotFound
    from dueprocess.orchestration.recovery import recover_case

    wire()
    logger = get_run_logger()
    if not isinstance(case_id, str) or not CASE_ID.match(case_id):
        logger.warning("ignored (%s): case_id %r is not a case id", reason, case_id)
        return ResumeOutcome(case_id=None, action="ignored: malformed case_id")
    if evidence_id is not None and not (isinstance(evidence_id, int) or (
        isinstance(evidence_id, str) and evidence_id.isdigit()
    )):
        logger.warning("ignored (%s): evidence_id %r is not an id", reason, evidence_id)
        return ResumeOutcome(case_id=case_id, action="ignored: malformed evidence_id")
    try:
        action = recover_case(case_id)
    except NotFound:
        logger.warning("ignored (%s): no case %s", reason, case_id)
        return ResumeOutcome(case_id=case_id, action="ignored: unknown case")
    logger.info("case %s (%s, evidence %s): %s", case_id, reason, evidence_id, action)
    return ResumeOutcome(case_id=case_id, action=action)
