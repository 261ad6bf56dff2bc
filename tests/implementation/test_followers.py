"""Residents follow an item (on consent, or by choice with a link sent to the channel) and
each event reaches each follower once through the outbox and real Apprise delivery to a
loopback receiver, with an unsubscribe link; or once a day, as a digest."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import col, select

from dueprocess.db import session_scope
from dueprocess.services.case_clock import advance_clock_to, case_time
from dueprocess.settings import NotifySettings, get_notify_settings, get_settings
from implementation.follow_up import open_adjustment_as
from implementation.supervision import supervise_overdue
from models.base import utcnow
from models.follow_up import FollowUpKind
from models.notices import Notice, NoticeDelivery
from notifications.delivery import deliver_pending
from notifications.followers import queue_due_digests
from notifications.public import (
    confirm,
    follow_item,
    follow_with_proven_channel,
    item_tag,
    queue_item_digests,
    unsubscribe,
)
from notifications.transport.receiver import WebhookReceiver
from tests.notifications.conftest import write_config
from tests.programme.conftest import OFFICIAL, milestone, progress, register
from tests.support import demo_case_data, token_for


@pytest.fixture(autouse=True)
def loopback_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUEPROCESS_NOTIFY_ALLOW_PRIVATE_TARGETS", "true")


def receiver() -> WebhookReceiver:
    return WebhookReceiver().start()


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[NotifySettings]:
    sink = receiver()  # the operators' channel of nobody's tag: only followers receive here
    yield get_notify_settings().model_copy(update={
        "apprise_config": write_config(tmp_path / "apprise.yaml", {sink.url: "nobody"}),
        "notify_backoff_seconds": 0.2, "notify_backoff_max_seconds": 1.0})
    sink.stop()


def link(text: str, path: str) -> tuple[int, str]:
    found = re.search(rf"http://\S+{re.escape(path)}\?\S+", text)
    assert found, f"no {path} link in: {text}"
    query = parse_qs(urlparse(found.group(0)).query)
    return int(query["s"][0]), query["t"][0]


def test_each_follower_hears_each_event_once_and_may_unsubscribe(
    decided_case: str, settings: NotifySettings,
) -> None:
    item = register(decided_case, title="Lifts for old residential buildings")
    assert item.id is not None
    consented, chose = receiver(), receiver()
    try:
        follow_with_proven_channel(url=consented.url, tag=item_tag(item.id))
        follow_item(item_id=item.id, url=chose.url)
        [confirmation] = chose.accepted
        confirm(subscriber_id=link(confirmation["message"], "/subscriptions/confirm")[0],
                token=link(confirmation["message"], "/subscriptions/confirm")[1])
        progress(item.id, text="Lift shafts dug in 3 buildings", percent=30)
        deliver_pending(settings=settings)
        for follower, before in ((consented, 0), (chose, 1)):
            [notice] = follower.accepted[before:]
            assert "Lifts for old residential buildings" in notice["title"]
            assert "Lift shafts dug in 3 buildings" in notice["message"]
            assert "30%" in notice["message"]
            link(notice["message"], "/unsubscribe")
        # A worker died after sending: the lease expires and the delivery is sent again;
        # the receiver sees the same idempotency key and keeps the notice once.
        with session_scope() as session:
            session.execute(update(NoticeDelivery).where(
                col(NoticeDelivery.idempotency_key).in_(
                    [*consented.keys(), *chose.keys()])).values(
                status="sending", lease_until=utcnow() - timedelta(seconds=1)))
        deliver_pending(settings=settings)
        assert sum(consented.arrivals.values()) == 2
        assert list(consented.keys().values()) == [1]
        assert len(chose.accepted) == 2
        # The consenting follower unsubscribes through the notice's link.
        subscriber, token = link(consented.accepted[0]["message"], "/unsubscribe")
        unsubscribe(subscriber_id=subscriber, token=token)
        milestone(item.id, item.registered_on + timedelta(days=60))
        deliver_pending(settings=settings)
        assert len(consented.accepted) == 1
        [_, _, milestone_set] = chose.accepted
        assert "Meters installed in zone 1" in milestone_set["message"]
    finally:
        consented.stop()
        chose.stop()


def test_a_digest_follower_hears_once_a_day_listing_the_events(
    decided_case: str, settings: NotifySettings,
) -> None:
    item = register(decided_case, title="Night bus line 12")
    assert item.id is not None
    digest = receiver()
    try:
        follow_with_proven_channel(url=digest.url, tag=item_tag(item.id, digest=True))
        progress(item.id, text="Route surveyed", percent=10)
        progress(item.id, text="Stops built", percent=50)
        deliver_pending(settings=settings)
        assert digest.accepted == []  # nothing at each event
        # The day of the events on the case's clock, in the case's time zone.
        day = case_time(decided_case).astimezone(ZoneInfo(get_settings().case_timezone)).date()
        key = f"{item_tag(item.id, digest=True)}:{day.isoformat()}"
        # The schedule queues yesterday's digests: the day after, on its first run.
        assert queue_due_digests(now=case_time(decided_case) + timedelta(days=1)) >= 1
        with session_scope() as session:
            notice = session.exec(select(Notice).where(Notice.dedupe_key == key)).one()
        assert key not in {n.dedupe_key for n in queue_item_digests(day=day)}  # once
        deliver_pending(settings=settings)
        [received] = digest.accepted
        assert "Night bus line 12" in received["title"]
        assert "Route surveyed" in received["message"]
        assert "Stops built" in received["message"]
        link(received["message"], "/unsubscribe")
        deliver_pending(settings=settings)
        assert len(digest.accepted) == 1
        assert notice.kind == "item_digest"
    finally:
        digest.stop()


def test_the_item_page_follow_form_sends_the_link_or_names_the_field(
    decided_case: str, client: TestClient,
) -> None:
    item = register(decided_case, title="Street lights on Hexi Road")
    url = f"/programme/items/{item.id}"
    assert 'id="follow-form"' in client.get(url).text
    refused = client.post(f"{url}/follow", data={"url": "example.org/hook"})
    assert refused.status_code == 422
    assert "url: " in refused.text and "not an Apprise URL" in refused.text
    channel = receiver()
    try:
        sent = client.post(f"{url}/follow", data={"url": channel.url, "digest": "on"})
        assert sent.status_code == 200
        assert "确认链接已发送至" in sent.text  # zh-CN by default
        [confirmation] = channel.accepted
        subscriber, token = link(confirmation["message"], "/subscriptions/confirm")
        assert confirm(subscriber_id=subscriber, token=token).tags == [
            item_tag(item.id or 0, digest=True)]
    finally:
        channel.stop()
    assert client.post("/programme/items/999999/follow",
                       data={"url": "json://127.0.0.1:9/x"}).status_code == 404


def test_escalation_and_stop_reach_the_followers(
    decided_case: str, settings: NotifySettings,
) -> None:
    item = register(decided_case, title="Cycle lanes on Jiefang Road")
    assert item.id is not None
    follower = receiver()
    try:
        follow_with_proven_channel(url=follower.url, tag=item_tag(item.id))
        milestone(item.id, case_time(decided_case).date() + timedelta(days=2))
        deliver_pending(settings=settings)  # sent before the case's clock moves on
        advance_clock_to(case_id=decided_case,
                         moment=case_time(decided_case) + timedelta(days=4))
        assert [r for r in supervise_overdue() if r.item_id == item.id]
        data = demo_case_data()
        data.update(simulated_clock={"starts_at": "2027-11-25T09:00:00+08:00"},
                    title="Cycle lanes: stopped")
        stop = open_adjustment_as(case_id=decided_case, kind=FollowUpKind.STOP,
                                  case_file=data, token=token_for(OFFICIAL), channel="test")
        deliver_pending(settings=settings)
        with session_scope() as session:
            events = sorted(n.dedupe_key.split(":")[1] for n in session.exec(
                select(Notice).where(col(Notice.dedupe_key).startswith(
                    f"{item_tag(item.id)}:"))))
        assert events == ["escalation", "milestone_set", "stop"]
        assert len(follower.accepted) == 3
        assert any(stop.id in n["message"] for n in follower.accepted)
    finally:
        follower.stop()
