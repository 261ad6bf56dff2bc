"""`POST /api/flow_runs/{id}/resume` on a real Prefect server: input naming a reviewer
without a proof is refused at the gate (FORM-PROOF), audited, and stores nothing; the same
input with the reviewer's single-use form code is recorded."""

from __future__ import annotations

import time
from uuid import UUID

import pytest
from sqlmodel import func, select

from dueprocess.db import session_scope
from dueprocess.demo import submissions
from models.evidence import EvidenceItem, GateWait, Refusal
from tests.flows.conftest import gate
from tests.support import advance_to_step, form_code_for, startups

pytestmark = [pytest.mark.flow, pytest.mark.slow]


def stored(case_id: str) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(EvidenceItem)
                            .where(EvidenceItem.case_id == case_id)).one()


def test_a_resume_with_a_handle_alone_is_refused(started_case: tuple[str, UUID]) -> None:
    # Prefect pauses a run before it stores the form's schema, and refuses input until then:
    # resume as `dueprocess record` does, which waits that out.
    from dueprocess.orchestration.resume import resume_with_input

    case_id, _ = started_case
    flow_run_id, first_key = gate(case_id)
    advance_to_step(case_id, "risk_assessment")  # the report's day on the case clock
    from dueprocess.orchestration.evidence_form import form_values
    from models.procedure import load_procedure

    values = form_values(load_procedure("decree-713"), "risk_assessment", submissions.RISK)
    bare = {"recorded_by": "liu.yang", "risk_assessment": values}  # yes/no choices
    accepted = resume_with_input(UUID(flow_run_id), run_input=bare)
    assert accepted.status.value == "ACCEPT"  # Prefect checks only the JSON schema
    flow_run_id, second_key = gate(case_id)
    assert second_key != first_key
    with session_scope() as session:
        wait = session.exec(select(GateWait).where(GateWait.case_id == case_id,
                                                   GateWait.key == first_key)).one()
        refusal = session.get(Refusal, wait.refusal_id)
    assert refusal is not None and refusal.channel == "prefect-form"
    assert refusal.reasons[0]["rule"] == "FORM-PROOF" and refusal.submitted_by == "liu.yang"
    assert stored(case_id) == 0
    proof = form_code_for(case_id, "risk_assessment", "liu.yang", submissions.RISK)
    resumed = resume_with_input(UUID(flow_run_id), run_input={**bare, "proof": proof})
    assert resumed.status.value == "ACCEPT"
    deadline = time.monotonic() + startups(60)  # the resumed run records it; polled
    while stored(case_id) == 0 and time.monotonic() < deadline:
        time.sleep(0.3)
    with session_scope() as session:
        [item] = session.exec(select(EvidenceItem).where(EvidenceItem.case_id == case_id)).all()
    assert item.recorded_by == "liu.yang" and item.channel == "prefect-form"
