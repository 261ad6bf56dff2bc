"""Hearings (Art. 16): announced by the participation officer, the materials delivered by
dueprocess to each participant's channel, and the hearing gate measuring that delivery
instead of the dates someone typed."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from dueprocess.db import session_scope
from dueprocess.errors import Refused
from dueprocess.services.case_clock import advance_clock, case_time
from dueprocess.services.progress import advance_case
from dueprocess.services.recording import record_evidence
from dueprocess.settings import NotifySettings
from models.evidence import Refusal
from models.hearings import Hearing, HearingCreate
from notifications.delivery import deliver_pending
from notifications.hearings import announce_hearing_as, read_hearing
from notifications.transport.receiver import WebhookReceiver
from tests.notifications.conftest import write_config
from tests.support import VALID_STEPS, advance_to_step, token_for

OFFICER = "li.wei"  # the demo case's participation officer
NAMES = ("Resident Gao", "Nurse Feng")


def hearing_file(webhook: WebhookReceiver, held_on: date) -> HearingCreate:
    return read_hearing({
        "held_on": held_on.isoformat(), "place": "District hall, room 2",
        "selection_method": "Drawn by lot from 40 volunteers on 2026-09-01",
        "participants": [{"name": name, "contact": f"{webhook.url}/{i}"}
                         for i, name in enumerate(NAMES)],
    })


def announce(case_id: str, request: HearingCreate, actor: str = OFFICER) -> Hearing:
    return announce_hearing_as(case_id=case_id, request=request, actor=actor,
                               token=token_for(actor), channel="test")


def case_day(case_id: str) -> date:
    return case_time(case_id).date()


def participation(hearing: Hearing, **typed: Any) -> dict[str, Any]:
    stage, _, evidence = VALID_STEPS[0]
    assert stage == "public_participation"
    published = hearing.announced_at.date().isoformat()
    return {**evidence, "hearing": {
        "held_on": hearing.held_on.isoformat(), "selection_method_published_on": published,
        "participants_published_on": published, "participants": list(NAMES),
        "record_signed_by": list(NAMES), **typed}}


def record(case_id: str, evidence: dict[str, Any]) -> None:
    advance_to_step(case_id, "public_participation")  # the comment window has closed
    record_evidence(case_id=case_id, stage_key="public_participation", recorded_by=OFFICER,
                    evidence=evidence, channel="test", token=token_for(OFFICER))


@pytest.fixture
def ready(case_id: str, tmp_path: Path, notify_settings: NotifySettings) -> str:
    write_config(tmp_path / "apprise.yaml", {})
    advance_case(case_id=case_id)  # public participation opens
    return case_id


def test_materials_delivered_in_time_pass_the_hearing_gate(
    ready: str, webhook: WebhookReceiver, notify_settings: NotifySettings,
) -> None:
    hearing = announce(ready, hearing_file(webhook, case_day(ready) + timedelta(days=10)))
    deliver_pending(settings=notify_settings)
    # One materials notice per participant's channel, holding the draft itself (the
    # public announcement goes to the public's subscribers, none here).
    assert [m["title"].startswith("听证材料") for m in webhook.accepted] == [True, True]
    assert all("10 yuan per hour" in m["message"] for m in webhook.accepted)
    with session_scope() as session:
        stored = session.get(Hearing, hearing.id)
        assert stored is not None and stored.participants == list(NAMES)
    record(ready, participation(hearing, materials_sent_on=hearing.announced_at.date()
                                .isoformat()))


def test_late_or_missing_delivery_and_contradicting_dates_are_refused(
    ready: str, webhook: WebhookReceiver, notify_settings: NotifySettings,
) -> None:
    hearing = announce(ready, hearing_file(webhook, case_day(ready) + timedelta(days=8)))
    with pytest.raises(Refused, match=r"PP-HEARING-MATERIALS.*reached 0 of 2 participants"):
        record(ready, participation(hearing))
    with session_scope() as session:  # the materials go out 3 days later: 5 days before
        advance_clock(session, case_id=ready, by=timedelta(days=3), person="test")
    deliver_pending(settings=notify_settings)
    with pytest.raises(Refused, match=r"PP-HEARING-MATERIALS.*less than 7 days before"):
        record(ready, participation(hearing))
    with pytest.raises(Refused, match=r"PP-HEARING-ANNOUNCED, Art. 16\] hearing.participants_"
                                      r"published_on .* contradicts the announcement"):
        record(ready, participation(hearing, participants_published_on=str(hearing.held_on)))


def test_only_the_participation_officer_announces_in_time(
    ready: str, webhook: WebhookReceiver,
) -> None:
    soon = hearing_file(webhook, case_day(ready) + timedelta(days=6))
    with pytest.raises(Refused, match=r"PP-HEARING-MATERIALS, Art. 16\] held_on: .* is less "
                                      r"than 7 days away"):
        announce(ready, soon)
    later = hearing_file(webhook, case_day(ready) + timedelta(days=9))
    with pytest.raises(Refused, match=r"HEARING-ANNOUNCER.*'wang.fang' may not announce"):
        announce(ready, later, actor="wang.fang")
    with session_scope() as session:
        assert not session.exec(select(Hearing).where(Hearing.case_id == ready)).all()
        refused = session.exec(select(Refusal).where(Refusal.case_id == ready)
                               .order_by(col(Refusal.id))).all()
        assert [r.submitted_by for r in refused][-2:] == [OFFICER, "wang.fang"]  # audited


def test_a_hearing_file_names_the_bad_field(webhook: WebhookReceiver) -> None:
    from dueprocess.errors import DueProcessError

    with pytest.raises(DueProcessError, match="participants: name listed twice: A"):
        read_hearing({"held_on": "2026-09-20", "place": "x", "selection_method": "lot",
                      "participants": [{"name": "A", "contact": webhook.url}] * 2})
    with pytest.raises(DueProcessError, match="held_on"):
        read_hearing({"held_on": "soon", "place": "x", "selection_method": "lot",
                      "participants": [{"name": "A", "contact": webhook.url}]})
