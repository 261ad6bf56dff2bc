"""One flow run at a time drives a case; a run that holds it asks Prefect nothing."""

from __future__ import annotations

import pytest

from dueprocess.db import session_scope
from dueprocess.orchestration import claims
from dueprocess.orchestration.claims import claim_case
from dueprocess.services.cases import get_case

FIRST, SECOND = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"


def holder_of(case_id: str) -> str | None:
    with session_scope() as session:
        return get_case(session, case_id).flow_run_id


def test_a_run_that_holds_the_case_keeps_it_without_asking_prefect(
    case_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert claim_case(case_id=case_id, flow_run_id=FIRST) is None
    monkeypatch.setattr(claims, "_is_active", lambda run_id: pytest.fail("asked Prefect"))
    assert claim_case(case_id=case_id, flow_run_id=FIRST) is None
    assert holder_of(case_id) == FIRST


@pytest.mark.parametrize(("first_is_active", "holder"), [(True, FIRST), (False, SECOND)])
def test_another_run_takes_the_case_only_from_a_run_that_stopped(
    case_id: str, monkeypatch: pytest.MonkeyPatch, first_is_active: bool, holder: str
) -> None:
    claim_case(case_id=case_id, flow_run_id=FIRST)
    asked: list[str] = []

    def is_active(run_id: str) -> bool:
        asked.append(run_id)
        return first_is_active

    monkeypatch.setattr(claims, "_is_active", is_active)
    refused_by = claim_case(case_id=case_id, flow_run_id=SECOND)
    assert asked == [FIRST]
    assert refused_by == (FIRST if first_is_active else None)
    assert holder_of(case_id) == holder
