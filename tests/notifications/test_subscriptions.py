"""Subscriptions: refused with the reason when malformed, confirmed through the channel,
unsubscribed through each notice's link; URLs encrypted and never shown in clear."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from sqlmodel import col, select

from dueprocess.db import session_scope
from dueprocess.errors import NotFound
from dueprocess.services.progress import advance_case
from dueprocess.settings import NotifySettings
from models.notices import Notice, NoticeDelivery, Subscriber
from notifications.delivery import deliver_pending
from notifications.subscriptions import (
    SubscriptionError,
    confirm,
    subscribe,
    unsubscribe,
)
from notifications.transport.channels import InvalidChannel
from notifications.transport.receiver import WebhookReceiver
from tests.notifications.conftest import public_notice, write_config


def link_parts(text: str, path: str) -> tuple[int, str]:
    url = re.search(rf"http://\S+{re.escape(path)}\?\S+", text)
    assert url, f"no {path} link in: {text}"
    query = parse_qs(urlparse(url.group(0)).query)
    return int(query["s"][0]), query["t"][0]


@pytest.mark.parametrize(("url", "reason"), [
    ("", "an Apprise URL is required"),
    ("example.org/hook", "not an Apprise URL"),
    ("nope://x", "'nope://' is not an Apprise notification scheme"),
    ("json://", "needs the rest of the address"),
    ("mailto://user:pw@", "malformed mailto:// URL"),
    ("discord://1234", "malformed discord:// URL"),
    ("tgram://badtoken", "Apprise cannot parse it"),
    ("windows://", "not accepted for public subscriptions"),
])
def test_a_malformed_url_is_refused_with_the_reason(url: str, reason: str, case_id: str) -> None:
    with session_scope() as session:
        before = len(session.exec(select(Subscriber)).all())
    with pytest.raises(InvalidChannel, match=re.escape(reason)) as refused:
        subscribe(url=url, case_id=case_id)
    assert str(refused.value).startswith("url: ")
    with session_scope() as session:
        assert len(session.exec(select(Subscriber)).all()) == before


def test_unknown_case_is_refused(webhook: WebhookReceiver) -> None:
    with pytest.raises(NotFound, match="case 'dp-2026-nothere' not found"):
        subscribe(url=webhook.url, case_id="dp-2026-nothere")


def test_subscribe_confirm_receive_unsubscribe(
    case_id: str, webhook: WebhookReceiver, notify_settings: NotifySettings, tmp_path: Path,
) -> None:
    write_config(tmp_path / "apprise.yaml", {})
    secret_url = webhook.url.replace("json://", "json://reader:s3cret-token@")
    pending = subscribe(url=secret_url, case_id=case_id)
    assert "s3cret-token" not in pending.privacy_url and pending.tag == f"case-{case_id}"
    [confirmation] = webhook.accepted
    subscriber_id, token = link_parts(confirmation["message"], "/subscriptions/confirm")
    with session_scope() as session:
        row = session.get(Subscriber, subscriber_id)
        assert row is not None and row.status == "pending"
        assert "s3cret-token" not in row.url_ciphertext + row.privacy_url

    advance_case(case_id=case_id)  # queued before the confirmation: not for this subscriber
    deliver_pending(settings=notify_settings)
    assert len(webhook.accepted) == 1

    with pytest.raises(SubscriptionError, match="not valid"):
        confirm(subscriber_id=subscriber_id, token="wrong")
    confirm(subscriber_id=subscriber_id, token=token)
    hearing = public_notice(case_id, place="Hall 2")
    deliver_pending(settings=notify_settings)
    [_, received] = webhook.accepted
    assert received["title"] == hearing.subject
    unsubscriber, unsubscribe_token = link_parts(received["message"], "/unsubscribe")
    assert unsubscriber == subscriber_id

    unsubscribe(subscriber_id=subscriber_id, token=unsubscribe_token)
    with session_scope() as session:
        row = session.get(Subscriber, subscriber_id)
        assert row is not None and (row.status, row.url_ciphertext, row.tags) == (
            "unsubscribed", "", [])
    public_notice(case_id, place="Hall 3")
    deliver_pending(settings=notify_settings)
    assert len(webhook.accepted) == 2  # nothing after unsubscribing


@pytest.mark.slow
def test_a_failing_channel_is_failed_after_n_attempts_and_shown_in_status(
    case_id: str, notify_settings: NotifySettings, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import time

    from typer.testing import CliRunner

    from dueprocess.commands.app import _register_features, app
    from dueprocess.services.case_view import case_view

    dead = WebhookReceiver().start()
    dead.stop()
    secret = dead.url.replace("json://", "json://ops:hunter2-secret@")
    write_config(tmp_path / "apprise.yaml", {secret: f"case-{case_id}"})
    advance_case(case_id=case_id)
    caplog.set_level(logging.DEBUG)
    for _ in range(notify_settings.notify_max_attempts):
        deliver_pending(settings=notify_settings)
        time.sleep(notify_settings.notify_backoff_max_seconds + 0.05)
    with session_scope() as session:
        [delivery] = session.exec(
            select(NoticeDelivery).join(Notice, col(Notice.id) == NoticeDelivery.notice_id)
            .where(Notice.case_id == case_id)).all()
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert "hunter2-secret" not in (delivery.last_error or "") + delivery.channel
    assert "hunter2-secret" not in caplog.text

    [failed] = case_view(case_id).failed_notices
    assert (failed.kind, failed.failed, failed.attempts) == ("call_for_comments", 1, 3)
    if not app.registered_commands:  # `main()` registers the feature commands
        _register_features()
    shown = CliRunner().invoke(app, ["status", case_id])
    assert shown.exit_code == 0, shown.output
    assert "call_for_comments) failed" in shown.output and "after 3 attempts" in shown.output
    assert "hunter2-secret" not in shown.output
