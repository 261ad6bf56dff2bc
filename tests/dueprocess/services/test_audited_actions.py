"""Object-level authorization: every stage, recorded by every person of a wrong role, is
refused with the rule that refused it, and the refusal is audited (who, what, which rule)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from dueprocess.db import session_scope
from dueprocess.errors import Refused
from dueprocess.services.progress import advance_case
from dueprocess.services.recording import record_evidence
from models.evidence import Refusal
from models.procedure import load_procedure
from tests.support import VALID_STEPS, advance_to_step, demo_case_data, token_for

PEOPLE = {p["handle"]: p["role"] for p in demo_case_data()["people"]}
PROCEDURE = load_procedure("decree-713")


@pytest.mark.parametrize("stage", PROCEDURE.stage_keys)
def test_every_wrong_role_is_refused_at_every_stage(stage: str, case_id: str) -> None:
    # Bring the stage to open with the valid evidence of the stages before it.
    before = PROCEDURE.upstream(stage)
    advance_case(case_id=case_id)
    for step_stage, by, evidence in VALID_STEPS:
        if step_stage in before:
            advance_to_step(case_id, step_stage)
            record_evidence(case_id=case_id, stage_key=step_stage, recorded_by=by,
                            evidence=evidence, channel="test", token=token_for(by))
    assert stage in advance_case(case_id=case_id).open_stages
    advance_to_step(case_id, stage)
    role = PROCEDURE.stage(stage).role
    wrong = sorted(h for h, r in PEOPLE.items() if r != role)
    evidence = next(e for s, _, e in VALID_STEPS if s == stage)
    assert len(wrong) >= 10
    for handle in wrong:
        with pytest.raises(Refused) as info:
            record_evidence(case_id=case_id, stage_key=stage, recorded_by=handle,
                            evidence=evidence, channel="test", token=token_for(handle))
        # First the authorization; an evidence rule may add its own reason (a signature
        # that is not the recorder's).
        assert info.value.problems[0].rule == "ASSIGNED-RECORDER", handle
        assert f"'{handle}' is not assigned to stage '{stage}'" in str(info.value)
    with session_scope() as session:
        refusals = session.exec(select(Refusal).where(Refusal.case_id == case_id,
                                                      Refusal.stage_key == stage)).all()
    assert sorted(r.submitted_by or "" for r in refusals) == wrong
    assert {r.reasons[0]["rule"] for r in refusals} == {"ASSIGNED-RECORDER"}
    assert stage in advance_case(case_id=case_id).open_stages  # nothing was recorded
