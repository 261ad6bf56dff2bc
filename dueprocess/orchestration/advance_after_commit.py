"""Open the next stage as soon as evidence is committed, wherever it was recorded.

Without this, a stage completes and the next one opens only when the case's flow run
wakes up (seconds later: the runner polls, starts a process, imports Prefect). Advancing
is idempotent and serialised per case, so doing it once more right after the evidence
commits, in the recording process, changes nothing but the latency; the flow run's own
advance then finds nothing left to do. A failure here is logged and left to the flow.

Called by the after-commit hook of `dueprocess.orchestration.events` (one hook, so that the
order is fixed: fault points, then this, then the Prefect events).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from dueprocess.journal import CaseEvent
from dueprocess.services.progress import advance_case
from dueprocess.settings import get_ops_settings

logger = logging.getLogger(__name__)


def advance_after_evidence(events: Iterable[CaseEvent]) -> None:
    cases = list(dict.fromkeys(e.case_id for e in events if e.kind == "evidence.recorded"))
    if not cases or not get_ops_settings().advance_on_record:
        return
    for case_id in cases:
        try:
            advance_case(case_id=case_id)
        except Exception:
            logger.warning("case %s: advancing after evidence failed; its flow run will",
                           case_id, exc_info=True)
