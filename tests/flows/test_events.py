"""Case events reach Prefect's event feed, and the deployments' triggers act on them.

Everything runs against the session's Prefect server and the served deployments
(major-decision, resume-case, deadline-watchdog, notify-reviewers, publish-decision and
deliver-notices, with their triggers).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlmodel import select

from dueprocess.db import session_scope
from dueprocess.journal import CaseEvent, publish
from dueprocess.orchestration.events import event_id
from dueprocess.services.gate_waits import latest_wait
from dueprocess.services.progress import advance_case
from dueprocess.services.recording import record_evidence
from models.base import utcnow
from models.escalations import StageEscalation
from tests.flows.conftest import final_state, gate
from tests.support import VALID_STEPS, advance_to_step, startups, token_for

pytestmark = [pytest.mark.flow, pytest.mark.slow]


def case_events(case_id: str) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.events.filters import EventFilter, EventResourceFilter

    with get_client(sync_client=True) as client:
        page = client.read_events(EventFilter(resource=EventResourceFilter(
            id=[f"dueprocess.case.{case_id}"])), limit=50)
    return list(page.events)


def wait_for_events(case_id: str, ready: Callable[[list[Any]], bool],
                    timeout: float = 60) -> list[Any]:
    deadline = time.monotonic() + timeout
    while True:
        events = case_events(case_id)
        if ready(events) or time.monotonic() > deadline:
            return events
        time.sleep(0.5)


def transitions(events: list[Any]) -> list[Any]:
    """Leave out the notices' events: the delivery deployments publish them on their own
    time (10 s after the stages open), so they may or may not be there yet."""
    return [e for e in events if e.event != "dueprocess.notice.published"]


def names(events: list[Any]) -> list[str]:
    return sorted(e.event for e in events)


def related(event: Any, role: str) -> list[str]:
    return [r.id for r in event.related if r.role == role]


def test_every_transition_reaches_the_event_feed_with_ids_and_digests(
    started_case: tuple[str, UUID],
) -> None:
    case_id, _ = started_case
    advance_to_step(case_id, "risk_assessment")  # the report's day on the case clock
    item = record_evidence(case_id=case_id, stage_key="risk_assessment", recorded_by="liu.yang",
                           evidence=dict(VALID_STEPS[4][2]), channel="api",
                           token=token_for("liu.yang"))
    expected = ["dueprocess.case.opened", "dueprocess.evidence.recorded",
                "dueprocess.stage.completed", *["dueprocess.stage.opened"] * 3]
    events = transitions(wait_for_events(case_id, lambda ev: names(transitions(ev)) == expected))
    assert names(events) == expected
    by_name = {e.event: e for e in events}
    opened = by_name["dueprocess.case.opened"]
    assert related(opened, "person") == ["dueprocess.person.wang.fang"]
    assert opened.resource["dueprocess.case.id"] == case_id
    recorded = by_name["dueprocess.evidence.recorded"]
    assert recorded.payload["evidence_id"] == item.id
    assert recorded.payload["sha256"] == item.payload_sha256
    assert related(recorded, "stage") == [f"dueprocess.stage.{case_id}.risk_assessment"]
    assert related(recorded, "person") == ["dueprocess.person.liu.yang"]
    # Digests and ids only: none of the evidence's own fields travel with the event, and
    # its documents only by their SHA-256.
    assert not set(recorded.payload) & (set(item.payload) - {"documents"})
    assert all(len(d) == 64 for d in recorded.payload["documents"])
    assert recorded.id == event_id(CaseEvent(
        case_id=case_id, kind="evidence.recorded", occurred_at=item.recorded_at,
        stage_key="risk_assessment", person="liu.yang", subject_id=item.id,
        digest=item.payload_sha256))
    stages = sorted(related(e, "stage")[0].rsplit(".", 1)[1] for e in events
                    if e.event == "dueprocess.stage.opened")
    assert stages == ["expert_review", "public_participation", "risk_assessment"]
    # Opened by the flow run: Prefect adds the run as a related resource.
    assert any(r.role == "flow-run" for r in by_name["dueprocess.stage.opened"].related)


def test_a_rolled_back_change_emits_nothing(case_id: str, prefect_server: str) -> None:
    def sent_back(marker: int) -> CaseEvent:
        return CaseEvent(case_id=case_id, kind="case.sent_back", occurred_at=utcnow(),
                         subject_id=marker)

    kept, in_savepoint, after, rolled_back = (sent_back(n) for n in (1, 2, 3, 4))
    with pytest.raises(RuntimeError), session_scope() as session:
        publish(session, rolled_back)
        raise RuntimeError("the change fails after its event was queued")
    with session_scope() as session:
        publish(session, kept)
        with pytest.raises(RuntimeError), session.begin_nested():
            publish(session, in_savepoint)
            raise RuntimeError("the savepoint rolls back")
        publish(session, after)
    events = wait_for_events(case_id, lambda ev: event_id(after) in {e.id for e in ev})
    time.sleep(1)
    ids = {e.id for e in case_events(case_id)}
    assert {event_id(kept), event_id(after)} <= ids
    assert not {event_id(in_savepoint), event_id(rolled_back)} & ids
    assert sorted(e.payload["subject_id"] for e in events
                  if e.event == "dueprocess.case.sent_back") == [1, 3]


def test_evidence_recorded_elsewhere_wakes_the_run_through_the_trigger(
    started_case: tuple[str, UUID],
) -> None:
    case_id, run_id = started_case
    _, first_key = gate(case_id)
    # Recorded through the API, say: nothing resumes the run but the trigger.
    advance_to_step(case_id, "public_participation")  # the published window has closed
    record_evidence(case_id=case_id, stage_key="public_participation", recorded_by="li.wei",
                    evidence=dict(VALID_STEPS[0][2]), channel="api", token=token_for("li.wei"))
    deadline = time.monotonic() + startups(30)
    while time.monotonic() < deadline:
        with session_scope() as session:
            wait = latest_wait(session, case_id)
        if wait is not None and wait.key != first_key and wait.consumed_at is None:
            break
        time.sleep(0.5)
    assert wait is not None and wait.key != first_key, "the trigger did not wake the run"
    assert set(wait.stage_keys) == {"expert_review", "risk_assessment"}
    assert gate(case_id) == (str(run_id), wait.key)
    runs = resume_case_runs(lambda p: p.get("case_id") == case_id)
    assert runs and all(r.parameters["reason"] == "evidence recorded" for r in runs)


def resume_case_runs(where: Callable[[dict[str, Any]], bool]) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(deployment_filter=DeploymentFilter(
            name=DeploymentFilterName(any_=["resume-case"])), limit=200)
    return [r for r in runs if where(r.parameters)]


def run_logs(run_id: UUID) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    with get_client(sync_client=True) as client:
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
    return [log.message for log in logs]


def test_events_naming_no_case_are_logged_and_ignored(
    started_case: tuple[str, UUID],
) -> None:
    from prefect.events import emit_event

    case_id, _ = started_case
    api = {"prefect.resource.id": "dueprocess.channel.api",
           "prefect.resource.role": "channel"}
    emit_event("dueprocess.evidence.recorded", related=[api], payload={"evidence_id": 1},
               resource={"prefect.resource.id": "dueprocess.case.dp-0000-nope",
                         "dueprocess.case.id": "dp-0000-nope"})
    emit_event("dueprocess.evidence.recorded", related=[api],
               resource={"prefect.resource.id": "dueprocess.case.Robert'); DROP TABLE--",
                         "dueprocess.case.id": "Robert'); DROP TABLE--"},
               payload={"evidence_id": "1; DROP TABLE evidenceitem"})
    emit_event("dueprocess.evidence.recorded", related=[api], payload={},
               resource={"prefect.resource.id": "dueprocess.case.unlabelled"})
    wanted = {"dp-0000-nope", "Robert'); DROP TABLE--", None}
    deadline = time.monotonic() + startups(40)
    while time.monotonic() < deadline:
        runs = resume_case_runs(lambda p: p.get("case_id") in wanted)
        if {r.parameters.get("case_id") for r in runs} == wanted and all(
            r.state is not None and r.state.is_final() for r in runs
        ):
            break
        time.sleep(1)
    assert {r.parameters.get("case_id") for r in runs} == wanted
    for run in runs:
        state = final_state(run.id)
        assert state.is_completed(), (run.parameters, state)
        deadline = time.monotonic() + startups(7)  # logs reach the API after the state
        while not any(line.startswith("ignored") for line in run_logs(run.id)):
            assert time.monotonic() < deadline, (run.parameters, run_logs(run.id))
            time.sleep(0.5)
    # The runner is still serving: a real case still moves.
    assert gate(case_id)


def test_the_watchdog_escalates_an_overdue_stage_once(
    case_id: str, prefect_server: str,
) -> None:
    from prefect.deployments import run_deployment

    advance_case(case_id=case_id)
    from dueprocess.services.case_clock import case_time

    where = "WHERE case_id = :case AND key = 'expert_review'"

    def set_opened_at(at: Any) -> None:
        with session_scope() as session:
            session.connection().execute(text(f"UPDATE stage SET opened_at = :at {where}"),
                                         {"at": at, "case": case_id})

    with session_scope() as session:  # the stored value itself, to put back unchanged
        really_opened = session.connection().execute(
            text(f"SELECT opened_at FROM stage {where}"), {"case": case_id}).scalar_one()
    set_opened_at(case_time(case_id) - timedelta(days=31))  # 31 days ago on the case clock
    try:
        for _ in range(2):
            run: Any = run_deployment("deadline-watchdog/deadline-watchdog",
                                      parameters={"recover_cases": False}, timeout=120)
            assert run.state is not None and run.state.is_completed(), run.state
    finally:
        # The row as the log knows it: later tests verify the whole shared log.
        set_opened_at(really_opened)
    with session_scope() as session:
        rows = list(session.exec(select(StageEscalation)
                                 .where(StageEscalation.case_id == case_id)))
    assert [(r.stage_key, r.escalated_to) for r in rows] == [("expert_review", "wang.fang")]
    events = wait_for_events(
        case_id, lambda ev: "dueprocess.deadline.missed" in names(ev))
    [missed] = [e for e in events if e.event == "dueprocess.deadline.missed"]
    assert related(missed, "official") == ["dueprocess.person.wang.fang"]
    assert related(missed, "stage") == [f"dueprocess.stage.{case_id}.expert_review"]
    assert missed.payload["escalation_id"] == rows[0].id
