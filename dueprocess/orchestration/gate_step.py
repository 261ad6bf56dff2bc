"""One pass of a case's flow run, from what its gate received to its next gate.

The whole pass is one Prefect task run: claim the case, record what the gate received,
open and close stages, and prepare the next wait. Each part is idempotent against the
database, so a retried or rerun pass repeats no side effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dueprocess.orchestration.claims import claim_case
from dueprocess.services.cases import case_is_closed
from dueprocess.services.gate_waits import WaitOutcome, consume_wait, prepare_wait
from dueprocess.services.progress import CaseProgress, advance_case
from models.evidence import GateWait


@dataclass(frozen=True)
class Received:
    """What the run's gate `key` handed back (None: resumed without input)."""

    key: str
    raw: dict[str, Any] | None


@dataclass(frozen=True)
class GateStep:
    superseded_by: str | None = None  # another active run drives the case
    received: WaitOutcome | None = None
    progress: CaseProgress | None = None
    wait: GateWait | None = None  # None once the case is closed


def step_to_gate(*, case_id: str, flow_run_id: str, received: Received | None) -> GateStep:
    holder = claim_case(case_id=case_id, flow_run_id=flow_run_id)
    if holder is not None:
        return GateStep(superseded_by=holder)
    outcome = None
    if received is not None:
        outcome = consume_wait(case_id=case_id, key=received.key, raw=received.raw)
    while True:
        progress = advance_case(case_id=case_id)
        if progress.closed:
            return GateStep(received=outcome, progress=progress)
        wait = prepare_wait(case_id=case_id, flow_run_id=flow_run_id,
                            stage_keys=progress.open_stages)
        if not case_is_closed(case_id):
            return GateStep(received=outcome, progress=progress, wait=wait)
        # The last evidence closed the case after this pass advanced it: its recorder
        # found no gate to resume, so no run may wait at this one; the next pass returns.
        consume_wait(case_id=case_id, key=wait.key, raw=None)
