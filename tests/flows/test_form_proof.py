"""`POST /api/flow_runs/{id}/resume` on a real Prefect server: the form requires a proof
(the server refuses input without one); a wrong proof is refused at the gate (FORM-PROOF),
audited, and stores nothing; a refusal by a rule does not use the form code up, so the
corrected evidence is recorded with the same code. Once the case database holds what a
gate received, Prefect keeps none of it: its API has no input left at those gates, no
table of its database holds the code or the evidence, and ours holds only a keyed digest."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from typing import Any
from uuid import UUID

import pytest
from sqlmodel import func, select

from dueprocess.db import session_scope
from dueprocess.demo import submissions
from models.evidence import EvidenceItem, GateWait, Refusal
from models.people import FormCode
from tests.flows.conftest import gate
from tests.support import advance_to_step, form_code_for, startups

pytestmark = [pytest.mark.flow, pytest.mark.slow]


def stored(case_id: str) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(EvidenceItem)
                            .where(EvidenceItem.case_id == case_id)).one()


def next_gate(case_id: str, after: str) -> tuple[str, str]:
    """The gate the run waits at once it took the input of gate `after`."""
    deadline = time.monotonic() + startups(60)
    while True:
        found = gate(case_id)
        if found[1] != after:
            return found
        assert time.monotonic() < deadline, f"the run did not move past gate {after}"
        time.sleep(0.3)


def refusal_at(case_id: str, key: str) -> Refusal:
    with session_scope() as session:
        wait = session.exec(select(GateWait).where(GateWait.case_id == case_id,
                                                   GateWait.key == key)).one()
        refusal = session.get(Refusal, wait.refusal_id)
    assert refusal is not None, f"gate {key} recorded no refusal"
    return refusal


def inputs_left(flow_run_id: str, keys: list[str]) -> list[str]:
    """The keys whose form input Prefect's API still has."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import PrefectHTTPStatusError
    from prefect.input.run_input import keyset_from_base_key

    left = []
    with get_client(sync_client=True) as client:
        for key in keys:
            for state_name in ("paused", "suspended"):
                name = keyset_from_base_key(f"{state_name}-{key}")["response"]
                try:
                    client.read_flow_run_input(UUID(flow_run_id), key=name)
                except PrefectHTTPStatusError as exc:
                    assert exc.response.status_code == 404, exc
                else:
                    left.append(name)
    return left


def prefect_rows_holding(*needles: str) -> list[str]:
    """Every row of every table of the Prefect server's database holding one of `needles`."""
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    url = str(PREFECT_SERVER_DATABASE_CONNECTION_URL.value())
    assert url.startswith("sqlite+aiosqlite:///"), url  # the test harness's database
    found = []
    with sqlite3.connect(url.removeprefix("sqlite+aiosqlite:///")) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):  # the database's own table names
                text = " ".join(str(v) for v in row)
                found += [f"{table}: {n}" for n in needles if n in text]
    return found


def test_the_proof_is_required_and_a_refusal_does_not_use_up_the_code(
        started_case: tuple[str, UUID]) -> None:
    # Prefect pauses a run before it stores the form's schema, and refuses input until then:
    # resume as `dueprocess record` does, which waits that out.
    from dueprocess.orchestration.evidence_form import form_values
    from dueprocess.orchestration.resume import resume_with_input
    from models.procedure import load_procedure

    case_id, _ = started_case
    flow_run_id, first_key = gate(case_id)
    advance_to_step(case_id, "risk_assessment")  # the report's day on the case clock
    values = form_values(load_procedure("decree-713"), "risk_assessment", submissions.RISK)
    bare: dict[str, Any] = {"recorded_by": "liu.yang", "risk_assessment": values}
    # No proof: the server refuses the input against the form's schema; the run waits on.
    unproven = resume_with_input(UUID(flow_run_id), run_input=bare)
    assert unproven.status.value != "ACCEPT"
    assert "proof" in str(getattr(unproven.details, "reason", "")), unproven.details
    assert gate(case_id) == (flow_run_id, first_key)
    # A proof that is no code of theirs: accepted by Prefect, refused at the gate.
    guessed = resume_with_input(UUID(flow_run_id), run_input={**bare, "proof": "fc_guess"})
    assert guessed.status.value == "ACCEPT"
    flow_run_id, second_key = next_gate(case_id, first_key)
    refusal = refusal_at(case_id, first_key)
    assert refusal.channel == "prefect-form" and refusal.submitted_by == "liu.yang"
    assert refusal.reasons[0]["rule"] == "FORM-PROOF"
    assert stored(case_id) == 0
    # A real code with evidence a rule refuses (a blank risk point): the code survives.
    code = form_code_for(case_id, "risk_assessment", "liu.yang", submissions.RISK)
    blank = {**values, "risk_points": [*values["risk_points"], "  "]}
    resumed = resume_with_input(UUID(flow_run_id), run_input={
        "recorded_by": "liu.yang", "risk_assessment": blank, "proof": code})
    assert resumed.status.value == "ACCEPT"
    flow_run_id, third_key = next_gate(case_id, second_key)
    rules = [r["rule"] for r in refusal_at(case_id, second_key).reasons]
    assert rules == ["RA-REPORT-CONTENTS"] and stored(case_id) == 0
    with session_scope() as session:
        [row] = session.exec(select(FormCode).where(FormCode.case_id == case_id)).all()
    assert row.consumed_at is None
    # The corrected evidence with the same code is recorded, and uses the code up.
    corrected = resume_with_input(UUID(flow_run_id), run_input={**bare, "proof": code})
    assert corrected.status.value == "ACCEPT"
    deadline = time.monotonic() + startups(60)  # the resumed run records it; polled
    while stored(case_id) == 0 and time.monotonic() < deadline:
        time.sleep(0.3)
    with session_scope() as session:
        [item] = session.exec(select(EvidenceItem).where(EvidenceItem.case_id == case_id)).all()
        [row] = session.exec(select(FormCode).where(FormCode.case_id == case_id)).all()
    assert item.recorded_by == "liu.yang" and item.channel == "prefect-form"
    assert row.consumed_at is not None
    # Stored as a keyed digest: neither the code nor its plain SHA-256 is in our database.
    assert row.code_sha256 != hashlib.sha256(code.encode()).hexdigest()
    assert code not in row.model_dump_json()
    # Prefect keeps nothing of what the gates received: not the code, not the evidence.
    keys = [first_key, second_key, third_key]
    while inputs_left(flow_run_id, keys) and time.monotonic() < deadline:
        time.sleep(0.3)  # deleted by the run right after the pass that took it
    assert inputs_left(flow_run_id, keys) == []
    response_plan = json.dumps(submissions.RISK["response_plan"])[1:-1]
    assert prefect_rows_holding(code, "fc_guess", response_plan) == []
