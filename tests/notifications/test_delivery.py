"""Delivery through real receivers on loopback: each notice once per recipient."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from sqlmodel import col, select

from dueprocess.db import session_scope
from dueprocess.services.progress import advance_case
from dueprocess.settings import NotifySettings
from models.notices import Notice, NoticeDelivery
from notifications.audiences import case_tag
from notifications.delivery import deliver_pending
from notifications.transport.receiver import WebhookReceiver
from tests.notifications.conftest import write_config
from tests.notifications.receivers import SmtpReceiver, html_part
from tests.support import startups


def notices_of(case_id: str) -> list[Notice]:
    with session_scope() as session:
        return list(session.exec(
            select(Notice).where(Notice.case_id == case_id).order_by(col(Notice.id))))


def deliveries_of(case_id: str) -> list[NoticeDelivery]:
    with session_scope() as session:
        return list(session.exec(
            select(NoticeDelivery).join(Notice, col(Notice.id) == NoticeDelivery.notice_id)
            .where(Notice.case_id == case_id)))


def test_smtp_and_webhook_each_receive_each_notice_once(
    case_id: str, webhook: WebhookReceiver, smtp: SmtpReceiver,
    notify_settings: NotifySettings, tmp_path: Path,
) -> None:
    write_config(tmp_path / "apprise.yaml", {
        webhook.url: case_tag(case_id), smtp.url: f"{case_tag(case_id)}, reviewers-nobody",
    })
    advance_case(case_id=case_id)  # opens three stages: call for comments queued
    [call] = [n for n in notices_of(case_id) if n.kind == "call_for_comments"]

    first = deliver_pending(settings=notify_settings)
    again = deliver_pending(settings=notify_settings)

    assert first.delivered >= 2 and first.failed == 0
    assert again.delivered == 0
    by_channel = {d.channel.split(":")[0]: d for d in deliveries_of(case_id)}
    assert set(by_channel) == {"json", "mailto"}
    assert all(d.status == "delivered" and d.attempts == 1 for d in by_channel.values())
    assert webhook.keys() == {by_channel["json"].idempotency_key: 1}
    assert smtp.keys() == {by_channel["mailto"].idempotency_key: 1}
    assert sum(webhook.arrivals.values()) == sum(smtp.arrivals.values()) == 1
    [hook] = webhook.accepted
    assert hook["title"] == call.subject and hook["message"] == call.body_text.strip()
    [mail] = smtp.accepted
    assert str(make_header(decode_header(mail["Subject"]))) == call.subject
    assert "征求意见" in html_part(mail)
    with session_scope() as session:
        assert session.get(Notice, call.id).settled_at is not None  # type: ignore[union-attr]


def test_a_stopped_receiver_gets_the_notice_once_it_is_back(
    case_id: str, notify_settings: NotifySettings, tmp_path: Path,
) -> None:
    receiver = WebhookReceiver().start()
    port = receiver.port
    receiver.stop()
    write_config(tmp_path / "apprise.yaml", {receiver.url: case_tag(case_id)})
    advance_case(case_id=case_id)

    down = deliver_pending(settings=notify_settings)
    assert down.retrying >= 1 and down.delivered == 0
    [delivery] = deliveries_of(case_id)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "not accepted" in (delivery.last_error or "")

    back = WebhookReceiver(port=port).start()
    try:
        time.sleep(notify_settings.notify_backoff_seconds + 0.1)
        deliver_pending(settings=notify_settings)
        [delivery] = deliveries_of(case_id)
        assert (delivery.status, delivery.attempts) == ("delivered", 2)
        assert back.keys() == {delivery.idempotency_key: 1}
        deliver_pending(settings=notify_settings)
        assert sum(back.arrivals.values()) == 1
    finally:
        back.stop()


@pytest.mark.slow
def test_a_worker_killed_mid_delivery_causes_no_duplicate(
    case_id: str, webhook: WebhookReceiver, notify_settings: NotifySettings, tmp_path: Path,
) -> None:
    config = write_config(tmp_path / "apprise.yaml", {
        f"{webhook.url}/{n}": case_tag(case_id) for n in range(5)
    })
    advance_case(case_id=case_id)
    webhook.delay = 30.0  # the receiver takes each notice but holds its answer
    worker = subprocess.Popen(
        [sys.executable, "-c", "from dueprocess.composition.journal import wire; wire(); "
         "from notifications.delivery import deliver_pending; deliver_pending()"],
        env={**os.environ, "DUEPROCESS_APPRISE_CONFIG": str(config),
             "DUEPROCESS_NOTIFY_CONCURRENCY": "2", "DUEPROCESS_NOTIFY_LEASE_SECONDS": "1"},
    )
    try:
        deadline = time.monotonic() + startups(20)
        while sum(webhook.arrivals.values()) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sum(webhook.arrivals.values()) == 2, "the worker never reached the receiver"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    in_flight = set(webhook.arrivals)  # received, but the worker died before recording it
    assert {d.status for d in deliveries_of(case_id)} == {"sending"}  # all five leased

    webhook.delay = 0.0
    time.sleep(1.1)  # the dead worker's lease expires
    deliver_pending(settings=notify_settings)

    deliveries = deliveries_of(case_id)
    assert len(deliveries) == 5 and {d.status for d in deliveries} == {"delivered"}
    assert {d.attempts for d in deliveries} == {2}
    assert webhook.keys() == {d.idempotency_key: 1 for d in deliveries}
    # The two in flight were sent again, carrying the same key, and not taken twice.
    assert {k: n for k, n in webhook.arrivals.items() if n > 1} == dict.fromkeys(in_flight, 2)


def test_markup_in_a_case_is_escaped_in_the_email(
    smtp: SmtpReceiver, notify_settings: NotifySettings, tmp_path: Path,
) -> None:
    from dueprocess.services.cases import open_case, read_case_file
    from tests.conftest import DEMO_CASE

    payload = '<script>alert("x")</script>'
    request = read_case_file(DEMO_CASE)
    request = request.model_copy(update={
        "title": f"Fees {payload}", "draft": request.draft.model_copy(update={"text": payload})})
    with session_scope() as session:
        case_id = open_case(session, request=request).id
    write_config(tmp_path / "apprise.yaml", {smtp.url: case_tag(case_id)})
    advance_case(case_id=case_id)
    deliver_pending(settings=notify_settings)
    [mail] = smtp.accepted
    html = html_part(mail)
    assert "<script>" not in html and html.count("&lt;script&gt;alert(&#34;x&#34;)") >= 2


def test_a_channel_missing_from_a_workers_config_is_retried_not_dropped(
    case_id: str, webhook: WebhookReceiver, notify_settings: NotifySettings, tmp_path: Path,
) -> None:
    from models.base import utcnow
    from notifications.delivery import fan_out

    config = write_config(tmp_path / "apprise.yaml", {webhook.url: case_tag(case_id)})
    advance_case(case_id=case_id)
    fan_out(settings=notify_settings, now=utcnow())
    write_config(config, {})  # a worker started with another configuration
    deliver_pending(settings=notify_settings)
    [delivery] = deliveries_of(case_id)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "not in this worker's Apprise configuration" in (delivery.last_error or "")

    write_config(config, {webhook.url: case_tag(case_id)})
    time.sleep(notify_settings.notify_backoff_seconds + 0.1)
    deliver_pending(settings=notify_settings)
    [delivery] = deliveries_of(case_id)
    assert delivery.status == "delivered" and webhook.keys() == {delivery.idempotency_key: 1}
