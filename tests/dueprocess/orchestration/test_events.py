"""What a case event looks like as a Prefect event: ids and digests, never content."""

from __future__ import annotations

from datetime import UTC, datetime

from dueprocess.journal import CaseEvent
from dueprocess.orchestration.events import (
    case_resource,
    event_id,
    event_payload,
    related_resources,
)

WHEN = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


def test_evidence_recorded_carries_ids_digests_and_the_channel() -> None:
    event = CaseEvent(
        case_id="dp-2026-abcdef", kind="evidence.recorded", occurred_at=WHEN,
        stage_key="risk_assessment", person="liu.yang", subject_id=17, digest="ab" * 32,
        body={"kind": "risk_assessment", "channel": "cli", "draft_version": 1,
              "documents": ["cd" * 32], "text": "the whole risk report", "secret": "x"},
    )
    assert event_payload(event) == {
        "case_id": "dp-2026-abcdef", "stage_key": "risk_assessment", "person": "liu.yang",
        "evidence_id": 17, "sha256": "ab" * 32, "kind": "risk_assessment", "channel": "cli",
        "draft_version": 1, "documents": ["cd" * 32],
    }
    assert case_resource("dp-2026-abcdef") == {
        "prefect.resource.id": "dueprocess.case.dp-2026-abcdef",
        "prefect.resource.name": "dp-2026-abcdef", "dueprocess.case.id": "dp-2026-abcdef"}
    roles = {r["prefect.resource.role"]: r["prefect.resource.id"]
             for r in related_resources(event)}
    assert roles == {"stage": "dueprocess.stage.dp-2026-abcdef.risk_assessment",
                     "person": "dueprocess.person.liu.yang",
                     "channel": "dueprocess.channel.cli"}
    assert event_id(event) == event_id(CaseEvent(**{**event.__dict__}))


def test_refusals_carry_rule_ids_and_openings_no_text() -> None:
    refused = CaseEvent(
        case_id="dp-2026-abcdef", kind="evidence.refused", occurred_at=WHEN,
        stage_key="public_participation", person="li.wei", subject_id=3,
        body={"channel": "api", "reasons": [
            {"rule": "PP-WINDOW-LENGTH", "article": "Art. 15", "message": "19 days …"},
            {"rule": "SCHEMA", "article": "schema", "message": "name of a person"}]},
    )
    payload = event_payload(refused)
    assert payload["rules"] == ["PP-WINDOW-LENGTH", "SCHEMA"] and payload["refusal_id"] == 3
    assert "reasons" not in payload and "19 days" not in str(payload)
    opened = CaseEvent(case_id="dp-2026-abcdef", kind="case.opened", occurred_at=WHEN,
                       person="wang.fang", body={"title": "Parking fees", "organ": "District",
                                                 "procedure_id": "decree-713",
                                                 "draft_sha256": "ef" * 32})
    assert event_payload(opened) == {"case_id": "dp-2026-abcdef", "person": "wang.fang",
                                     "procedure_id": "decree-713", "draft_sha256": "ef" * 32}


def test_an_overdue_milestone_names_its_item_and_the_case_it_implements() -> None:
    overdue = CaseEvent(case_id="item-7", kind="supervision.overdue", occurred_at=WHEN,
                        subject_id=3, body={"implements": "dp-2026-abcdef", "item_id": 7,
                                            "milestone_id": 12, "due_on": "2027-03-01",
                                            "department": "District Justice Bureau"})
    assert event_payload(overdue) == {
        "case_id": "item-7", "supervision_id": 3, "implements": "dp-2026-abcdef",
        "item_id": 7, "milestone_id": 12, "due_on": "2027-03-01"}
