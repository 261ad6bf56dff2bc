"""Residents follow an implementation item and hear what became of their say.

A follower is a public subscriber (`models.notices.Subscriber`: the channel encrypted,
only its keyed digest searchable) tagged `item-<id>` for a notice at each event, or
`item-<id>-digest` for one notice a day listing the day's events; a proposer or voter who
consented follows the proposal (`proposal-<id>`, `proposal-<id>-digest`) and so every item
implementing it. Each event of an item (progress, a milestone set or completed, an
escalation, an adjustment or a stop) queues one notice, keyed by the event so a replay
queues nothing; the outbox's fan-out gives each follower one delivery with its own
idempotency key and unsubscribe link, and the deliver-notices deployment sends it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from dueprocess.contact_secrets import encrypt, url_key
from dueprocess.db import session_scope
from dueprocess.errors import NotFound
from dueprocess.settings import get_notify_settings, get_settings
from models.base import utcnow
from models.implementation import ImplementationItem
from models.notices import Notice, Subscriber
from notifications.content import item_url
from notifications.queue import queue_notice
from notifications.subscriptions import PendingSubscription, subscribe
from notifications.transport.channels import check_subscriber_url, privacy_form

ItemEvent = Literal["progress", "milestone_set", "milestone_done", "escalation",
                    "adjustment", "stop"]
EVENT_NOTICE = "item_event"
DIGEST_NOTICE = "item_digest"


def item_tag(item_id: int, *, digest: bool = False) -> str:
    return f"item-{item_id}" + ("-digest" if digest else "")


def proposal_tag(proposal_id: int, *, digest: bool = False) -> str:
    return f"proposal-{proposal_id}" + ("-digest" if digest else "")


def _audience(item: ImplementationItem, *, digest: bool) -> list[str]:
    tags = [item_tag(item.id or 0, digest=digest)]
    if item.proposal_id is not None:
        tags.append(proposal_tag(item.proposal_id, digest=digest))
    return tags


def follow_item(*, item_id: int, url: str, digest: bool = False) -> PendingSubscription:
    """Follow by choice: the confirmation link goes to the channel, which receives
    nothing until it is opened (`notifications.public.confirm`)."""
    with session_scope() as session:
        item = session.get(ImplementationItem, item_id)
        if item is None:
            raise NotFound(f"item_id: implementation item #{item_id} does not exist")
        title = item.title
    return subscribe(url=url, tag=item_tag(item_id, digest=digest),
                     scope=f"“{title}” (#{item_id})")


def follow_with_proven_channel(*, url: str, tag: str, now: datetime | None = None) -> int:
    """Follow on consent, for a channel the resident has just proven with a one-time code
    (proposing, voting, commenting): confirmed at once; an unsubscribed channel is
    followed again only because its owner consented again. Returns the subscriber id."""
    settings = get_notify_settings()
    plugin = check_subscriber_url(url, schemes=settings.notify_subscriber_schemes,
                                  allow_private=settings.notify_allow_private_targets)
    canonical = str(plugin.url())
    now = now or utcnow()
    other = tag.removesuffix("-digest") if tag.endswith("-digest") else f"{tag}-digest"
    with session_scope() as session:
        key = url_key(canonical)
        row = session.exec(select(Subscriber).where(Subscriber.url_key == key)).first()
        if row is None:
            row = Subscriber(url_key=key, url_ciphertext="", privacy_url="", tags=[],
                             created_at=now)
        if row.status != "confirmed":
            row.url_ciphertext, row.privacy_url = encrypt(canonical), privacy_form(plugin)
            row.tags, row.confirmed_at, row.unsubscribed_at = [], now, None
            row.status = "confirmed"
        # A follower hears of an item either at each event or in a daily digest.
        row.tags = sorted({*row.tags, tag} - {other})
        session.add(row)
        session.flush()
        return row.id or 0


def _context(item: ImplementationItem) -> dict[str, Any]:
    url = item_url(item.id or 0)
    return {"item": {"id": item.id, "title": item.title, "department": item.department,
                     "url": url, "case_id": item.case_id}, "case_url": url}


def queue_item_event(session: Session, *, item: ImplementationItem, event: ItemEvent,
                     summary: str, subject_id: str, now: datetime) -> Notice:
    """One notice of an item's event to its followers; `subject_id` names the event's
    record (the progress update, the milestone), so queueing it twice queues it once."""
    local = now.astimezone(ZoneInfo(get_settings().case_timezone))
    return queue_notice(
        session, case_id=item.case_id, kind=EVENT_NOTICE,
        audience=_audience(item, digest=False), public=False,
        context={**_context(item), "event": event, "summary": summary,
                 "occurred": f"{local:%Y-%m-%d %H:%M}"},
        dedupe_key=f"{item_tag(item.id or 0)}:{event}:{subject_id}", now=now)


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(get_settings().case_timezone)
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    return start, start + timedelta(days=1)


def queue_item_digests(*, day: date, now: datetime | None = None) -> list[Notice]:
    """The digest of `day` (the case's time zone) of every item with events that day:
    one notice listing them, queued once per item and day; returns those queued now."""
    start, end = _day_bounds(day)
    queued: list[Notice] = []
    with session_scope() as session:
        events = list(session.exec(
            select(Notice).where(Notice.kind == EVENT_NOTICE, col(Notice.created_at) >= start,
                                 col(Notice.created_at) < end).order_by(col(Notice.id))))
        by_item: dict[int, list[Notice]] = {}
        for notice in events:
            item_id = int(notice.dedupe_key.split(":", 1)[0].removeprefix("item-"))
            by_item.setdefault(item_id, []).append(notice)
        for item_id, notices in sorted(by_item.items()):
            item = session.get(ImplementationItem, item_id)
            if item is None:
                continue
            key = f"{item_tag(item_id, digest=True)}:{day.isoformat()}"
            if session.exec(select(Notice.id).where(Notice.dedupe_key == key)).first():
                continue
            lines = [{"subject": n.subject, "text": n.body_text} for n in notices]
            queued.append(queue_notice(
                session, case_id=item.case_id, kind=DIGEST_NOTICE,
                audience=_audience(item, digest=True), public=False,
                context={**_context(item), "day": day.isoformat(), "events": lines},
                dedupe_key=key, now=now or utcnow()))
        session.expunge_all()
    return queued


def queue_due_digests(*, now: datetime) -> int:
    """Yesterday's digests (the case's time zone), for the deliver-notices schedule:
    queued by its first run of the day, then nothing."""
    today = now.astimezone(ZoneInfo(get_settings().case_timezone)).date()
    return len(queue_item_digests(day=today - timedelta(days=1), now=now))
