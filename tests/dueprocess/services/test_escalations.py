"""Stage deadlines: each open stage past its deadline is escalated once per opening."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import select

from dueprocess.db import session_scope
from dueprocess.journal import CaseEvent, subscribe, unsubscribe
from dueprocess.services.escalations import (
    escalate_missed_deadlines,
    escalation_lines,
    missed_deadlines,
)
from dueprocess.services.progress import advance_case
from dueprocess.settings import OpsSettings
from models.base import utcnow
from models.escalations import StageEscalation


@pytest.fixture
def published() -> Iterator[list[CaseEvent]]:
    seen: list[CaseEvent] = []
    handler = subscribe(lambda _session, event: seen.append(event))
    yield seen
    unsubscribe(handler)


def escalations(case_id: str) -> list[StageEscalation]:
    with session_scope() as session:
        return list(session.exec(select(StageEscalation)
                                 .where(StageEscalation.case_id == case_id)))


def test_overdue_stages_are_escalated_once_to_the_official(
    case_id: str, published: list[CaseEvent],
) -> None:
    opened = advance_case(case_id=case_id)  # participation, experts and risk open
    assert set(opened.open_stages) == {"public_participation", "expert_review",
                                       "risk_assessment"}
    early = escalate_missed_deadlines(now=utcnow() + timedelta(days=29))
    assert [row for row in early if row.case_id == case_id] == []  # other tests' cases differ
    later = utcnow() + timedelta(days=31)  # experts and risk: 30 days; participation: 45
    first = escalate_missed_deadlines(now=later)
    assert {(row.case_id, row.stage_key) for row in first} >= {
        (case_id, "expert_review"), (case_id, "risk_assessment")}
    assert {row.stage_key for row in escalations(case_id)} == {
        "expert_review", "risk_assessment"}
    assert all(row.escalated_to == "wang.fang" and row.deadline_days == 30
               for row in escalations(case_id))
    missed = [e for e in published if e.case_id == case_id and e.kind == "deadline.missed"]
    assert {e.stage_key for e in missed} == {"expert_review", "risk_assessment"}
    assert all(e.body["escalated_to"] == "wang.fang" for e in missed)
    # A rerun of the watchdog escalates nothing twice.
    assert [r for r in escalate_missed_deadlines(now=later) if r.case_id == case_id] == []
    assert len(escalations(case_id)) == 2
    lines = escalation_lines(case_id)
    assert len(lines) == 2 and all("escalated to wang.fang" in line for line in lines)


def test_deadlines_come_from_the_settings_by_stage_key_then_kind(case_id: str) -> None:
    advance_case(case_id=case_id)
    settings = OpsSettings(stage_deadline_days={"expert_review": 3, "risk_assessment": 100})
    with session_scope() as session:
        missed = missed_deadlines(session, utcnow() + timedelta(days=4), settings)
    assert {m.stage_key for m in missed if m.case_id == case_id} == {"expert_review"}
    assert OpsSettings().deadline_days("anything", "publication") == 15
    assert OpsSettings().deadline_days("unknown", "unknown") == 30


def test_a_bad_deadline_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from dueprocess.errors import DueProcessError
    from dueprocess.settings import get_ops_settings

    for value, message in (('{"expert_review": 0}', "at least 1"), ("nope", "not valid JSON")):
        monkeypatch.setenv("DUEPROCESS_STAGE_DEADLINE_DAYS", value)
        get_ops_settings.cache_clear()
        with pytest.raises(DueProcessError, match="DUEPROCESS_STAGE_DEADLINE_DAYS") as info:
            get_ops_settings()
        assert message in str(info.value)
    monkeypatch.delenv("DUEPROCESS_STAGE_DEADLINE_DAYS")
    get_ops_settings.cache_clear()
