"""Deliver queued notices through Apprise: at least once, each recipient once.

1. Fan-out: a queued notice gets one delivery row per recipient channel (unique per notice
   and recipient); its idempotency key travels with the message (`Idempotency-Key` HTTP or
   mail header) so a receiver recognises a redelivery.
2. Claim: a worker leases due deliveries (`sending`, lease until …) in one transaction and
   counts the attempt, so a worker killed mid-send leaves rows that are retried once the
   lease expires, and a crash loop still ends in `failed`.
3. Send concurrently; record outcomes in small groups as they arrive, each guarded by the
   lease, so a slow worker never overwrites a newer claim.
4. A failed attempt is retried with exponential backoff; after N attempts the delivery is
   `failed` and shows in `dueprocess status`.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import apprise
from sqlalchemy import bindparam, func, insert, or_, update
from sqlmodel import Session, col, select

from dueprocess.contact_secrets import unsubscribe_token
from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError
from dueprocess.journal import CaseEvent, Handler, portable_handlers, publish, subscribe
from dueprocess.services.case_clock import clock_offsets
from dueprocess.settings import NotifySettings, get_notify_settings
from models.base import utcnow
from models.ledger import CommitHook, append_at_commit_with, commit_hook
from models.notices import Notice, NoticeDelivery, Subscriber
from notifications.audiences import named_for_notice
from notifications.render import Language, unsubscribe_footer
from notifications.transport.channels import (
    Channel,
    config_channels,
    matching,
    plugin_for_delivery,
    prefers_html,
    subscriber_channel,
    subscriber_recipients,
)
from notifications.transport.http import SessionPool

IDEMPOTENCY_HEADER = "Idempotency-Key"
FINAL = ("delivered", "failed", "skipped")
SETTLE_EVERY_SECONDS = 0.2


def worker_id() -> str:
    return f"{socket.gethostname()[:30]}-{os.getpid()}-{secrets.token_hex(3)}"


def idempotency_key(notice_id: int, recipient_key: str) -> str:
    return f"dp-notice-{notice_id}-{recipient_key.removeprefix('url-')[:32]}"


def unsubscribe_url(settings: NotifySettings, subscriber_id: int) -> str:
    token = unsubscribe_token(subscriber_id, settings=settings)
    return f"{settings.portal_url.rstrip('/')}/unsubscribe?s={subscriber_id}&t={token}"


def backoff(settings: NotifySettings, attempts: int) -> timedelta:
    seconds = settings.notify_backoff_seconds * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.notify_backoff_max_seconds))


# ---- fan-out ---------------------------------------------------------------------------

def fan_out(*, settings: NotifySettings, now: datetime, chunk: int = 50) -> int:
    """Create the delivery rows of every notice not fanned out yet; return how many rows."""
    created = 0
    operators = config_channels(settings.apprise_config_path)
    subscribers: list[Channel] | None = None
    while True:
        with session_scope() as session:
            pending = list(session.exec(
                select(Notice).where(col(Notice.fanned_out_at).is_(None))
                .order_by(col(Notice.id)).limit(chunk)
            ))
            if not pending:
                return created
            if subscribers is None:
                subscribers = subscriber_recipients(session)
            offsets = clock_offsets(session, {n.case_id for n in pending})
        created += _fan_out_notices(pending, operators, subscribers, now, offsets)


def _fan_out_notices(pending: list[Notice], operators: list[Channel],
                     subscribers: list[Channel], now: datetime,
                     offsets: dict[str, timedelta]) -> int:
    created = 0
    for notice in pending:
        with session_scope() as session:
            locked = session.exec(
                select(Notice).where(Notice.id == notice.id).with_for_update()
            ).one()
            if locked.fanned_out_at is not None:
                continue  # another worker did it
            # Subscribers confirmed after the notice was queued do not receive it (a
            # simulated case's notice is dated on its clock: compared in real time).
            queued = locked.created_at - offsets.get(locked.case_id, timedelta(0))
            named = {t for t in locked.audience if named_for_notice(t)}
            eligible = [c for c in subscribers if c.confirmed_at is not None
                        and (c.confirmed_at <= queued or c.tags & named)]
            channels = matching(locked.audience, [*operators, *eligible])
            rows = [_delivery_row(locked, c, now) for c in channels]
            if rows:
                session.execute(insert(NoticeDelivery), rows)
            locked.fanned_out_at = now
            session.add(locked)
            if not rows:
                _settle_notice(session, locked, now)
            created += len(rows)
    return created


def _delivery_row(notice: Notice, channel: Channel, now: datetime) -> dict[str, Any]:
    assert notice.id is not None
    return {
        "notice_id": notice.id, "recipient_key": channel.key,
        "subscriber_id": channel.subscriber_id, "channel": channel.privacy,
        "idempotency_key": idempotency_key(notice.id, channel.key), "status": "pending",
        "attempts": 0, "next_attempt_at": now, "created_at": now,
    }


# ---- claim -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Claimed:
    id: int
    notice_id: int
    recipient_key: str
    subscriber_id: int | None
    idempotency_key: str
    attempts: int


def claim(*, owner: str, settings: NotifySettings, now: datetime, limit: int) -> list[Claimed]:
    with session_scope() as session:
        due = or_(
            (col(NoticeDelivery.status) == "pending")
            & (col(NoticeDelivery.next_attempt_at) <= now),
            (col(NoticeDelivery.status) == "sending")
            & (col(NoticeDelivery.lease_until) < now),
        )
        rows = list(session.exec(
            select(NoticeDelivery).where(due).order_by(col(NoticeDelivery.id)).limit(limit)
            .with_for_update(skip_locked=True)
        ))
        if not rows:
            return []
        ids = [r.id for r in rows]
        session.execute(
            update(NoticeDelivery).where(col(NoticeDelivery.id).in_(ids)).values(
                status="sending", lease_owner=owner,
                lease_until=now + timedelta(seconds=settings.notify_lease_seconds),
                attempts=col(NoticeDelivery.attempts) + 1,
            ).execution_options(synchronize_session=False)
        )
        return [Claimed(r.id or 0, r.notice_id, r.recipient_key, r.subscriber_id,
                        r.idempotency_key, r.attempts + 1) for r in rows]


# ---- send ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str
    language: Language


@dataclass(frozen=True)
class Outcome:
    claimed: Claimed
    ok: bool
    final: bool = False  # no point retrying (the subscriber unsubscribed)
    error: str | None = None


def send(claimed: Claimed, channel: Channel, message: Message,
         settings: NotifySettings) -> Outcome:
    """One message to one channel. Errors name the channel only in privacy form."""
    try:
        plugin = plugin_for_delivery(channel.url)
    except DueProcessError as exc:
        return Outcome(claimed, ok=False, error=f"{channel.privacy}: {exc}")
    headers = getattr(plugin, "headers", None)
    if isinstance(headers, dict):
        headers[IDEMPOTENCY_HEADER] = claimed.idempotency_key
    for attribute in ("socket_read_timeout", "socket_connect_timeout"):
        if hasattr(plugin, attribute):
            setattr(plugin, attribute, settings.notify_timeout_seconds)
    as_html = prefers_html(plugin)
    body = message.html if as_html else message.text
    if claimed.subscriber_id is not None:
        link = unsubscribe_url(settings, claimed.subscriber_id)
        footer = unsubscribe_footer(link, language=message.language)
        body = body.replace("</body>", footer.html + "</body>", 1) if as_html \
            else body + footer.text
    try:
        ok = plugin.notify(
            body=body, title=message.subject,
            body_format=apprise.NotifyFormat.HTML if as_html else apprise.NotifyFormat.TEXT,
        )
    except Exception as exc:  # a plugin bug must not stop the other deliveries
        return Outcome(claimed, ok=False, error=f"{channel.privacy}: {type(exc).__name__}")
    if not ok:
        return Outcome(claimed, ok=False,
                       error=f"{type(plugin).__name__} to {channel.privacy}: not accepted "
                             "(refused, unreachable or timed out)")
    return Outcome(claimed, ok=True)


# ---- settle ----------------------------------------------------------------------------

def settle(outcomes: list[Outcome], *, owner: str, settings: NotifySettings,
           now: datetime) -> None:
    """Record outcomes of this worker's claims (a lost lease makes the update a no-op)."""
    if not outcomes:
        return
    params = []
    for o in outcomes:
        if o.ok:
            status, error, delivered, retry_at = "delivered", None, now, now
        elif o.final or o.claimed.attempts >= settings.notify_max_attempts:
            status, error, delivered, retry_at = ("skipped" if o.final else "failed"), \
                o.error, None, now
        else:
            status, error, delivered = "pending", o.error, None
            retry_at = now + backoff(settings, o.claimed.attempts)
        params.append({"_id": o.claimed.id, "_owner": owner, "_status": status,
                       "_error": (error or "")[:500] or None, "_delivered": delivered,
                       "_retry": retry_at})
    table = NoticeDelivery.__table__  # type: ignore[attr-defined]
    statement = (
        update(table)
        .where(table.c.id == bindparam("_id"), table.c.lease_owner == bindparam("_owner"),
               table.c.status == "sending")
        .values(status=bindparam("_status"), last_error=bindparam("_error"),
                delivered_at=bindparam("_delivered"), next_attempt_at=bindparam("_retry"),
                lease_owner=None, lease_until=None)
    )
    with session_scope() as session:
        session.connection().execute(statement, params)
        for notice_id in sorted({o.claimed.notice_id for o in outcomes}):
            open_rows = session.exec(
                select(func.count()).select_from(NoticeDelivery).where(
                    NoticeDelivery.notice_id == notice_id,
                    col(NoticeDelivery.status).not_in(FINAL),
                )
            ).one()
            if open_rows == 0:
                notice = session.exec(
                    select(Notice).where(Notice.id == notice_id).with_for_update()
                ).one()
                _settle_notice(session, notice, now)


def _settle_notice(session: Session, notice: Notice, now: datetime) -> None:
    """Mark the notice settled once, and announce what became of it. Like its creation,
    it is dated on the case's clock: a simulated case's notice settles in case time (a
    hearing's materials count as delivered then, `PP-HEARING-MATERIALS`)."""
    if notice.settled_at is not None:
        return
    now += clock_offsets(session, {notice.case_id}).get(notice.case_id, timedelta(0))
    counts = dict(session.exec(
        select(NoticeDelivery.status, func.count()).where(NoticeDelivery.notice_id == notice.id)
        .group_by(NoticeDelivery.status)
    ).all())
    notice.settled_at = now
    session.add(notice)
    publish(session, CaseEvent(
        case_id=notice.case_id, kind="notice.published", occurred_at=now,
        subject_id=notice.id, digest=notice.sha256,
        body={"notice_kind": notice.kind, "delivered": counts.get("delivered", 0),
              "failed": counts.get("failed", 0), "skipped": counts.get("skipped", 0)},
    ))


# ---- the delivery loop -----------------------------------------------------------------

@dataclass
class DeliveryReport:
    fanned_out: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, outcomes: list[Outcome], settings: NotifySettings) -> None:
        for o in outcomes:
            if o.ok:
                self.delivered += 1
                continue
            if o.final:
                self.skipped += 1
            elif o.claimed.attempts >= settings.notify_max_attempts:
                self.failed += 1
            else:
                self.retrying += 1
            if o.error and len(self.errors) < 20:
                self.errors.append(o.error)


@dataclass(frozen=True)
class MissingChannel:
    reason: str


class _Resolver:
    """Channel and message of each claimed delivery, loaded once per batch."""

    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings
        self.operators = {c.key: c for c in config_channels(settings.apprise_config_path)}
        self.messages: dict[int, Message] = {}

    def load(self, batch: list[Claimed]) -> dict[int, Channel | str | MissingChannel]:
        wanted_notices = {c.notice_id for c in batch} - set(self.messages)
        wanted_subscribers = {c.subscriber_id for c in batch if c.subscriber_id is not None}
        channels: dict[int, Channel | str | MissingChannel] = {}
        with session_scope() as session:
            for notice in session.exec(select(Notice).where(col(Notice.id).in_(wanted_notices))):
                self.messages[notice.id or 0] = Message(
                    notice.subject, notice.body_text, notice.body_html,
                    notice.language,  # type: ignore[arg-type]
                )
            subscribers = {s.id: s for s in session.exec(
                select(Subscriber).where(col(Subscriber.id).in_(wanted_subscribers)))}
        for c in batch:
            if c.subscriber_id is not None:
                row = subscribers.get(c.subscriber_id)
                if row is None or row.status != "confirmed":
                    channels[c.id] = "the subscriber unsubscribed before delivery"
                else:
                    channels[c.id] = subscriber_channel(row, settings=self.settings)
            else:
                channels[c.id] = self.operators.get(c.recipient_key) or MissingChannel(
                    "the channel is not in this worker's Apprise configuration "
                    "(DUEPROCESS_APPRISE_CONFIG); every worker needs the same file")
        return channels


def quiet_apprise() -> None:
    # Apprise logs service addresses on failure; outcomes are recorded by us, in privacy form.
    logging.getLogger("apprise").setLevel(logging.CRITICAL)


def deliver_pending(
    *, settings: NotifySettings | None = None, max_batches: int | None = None,
    owner: str | None = None, clock: Callable[[], datetime] = utcnow,
) -> DeliveryReport:
    """Fan out queued notices and deliver every due delivery; return what happened.

    Stops when nothing is due (deliveries waiting for a backoff stay for the next run).
    """
    settings = settings or get_notify_settings()
    owner = owner or worker_id()
    quiet_apprise()
    report = DeliveryReport(fanned_out=fan_out(settings=settings, now=clock()))
    resolver = _Resolver(settings)
    batches = 0
    sessions = SessionPool()  # keep-alive connections, one session per sending thread
    try:
        with ThreadPoolExecutor(max_workers=settings.notify_concurrency,
                                thread_name_prefix="deliver",
                                initializer=sessions.open_for_thread) as pool:
            while max_batches is None or batches < max_batches:
                batch = claim(owner=owner, settings=settings, now=clock(),
                              limit=settings.notify_batch_size)
                if not batch:
                    break
                batches += 1
                for outcomes in _send_batch(pool, batch, resolver, settings):
                    settle(outcomes, owner=owner, settings=settings, now=clock())
                    report.add(outcomes, settings)
    finally:
        sessions.close()
    return report


def _wired_as(journal_handlers: tuple[Handler, ...], hook: CommitHook | None) -> None:
    for handler in journal_handlers:
        subscribe(handler)
    if hook is not None:
        append_at_commit_with(hook)


def deliver_in_processes(processes: int, *, settings: NotifySettings | None = None,
                         max_batches: int | None = None) -> DeliveryReport:
    """`deliver_pending` in this process and `processes - 1` more at the same time.

    One process sends with one core at most (the GIL); on a machine with more cores, more
    processes share the queue through the same leases, so each delivery is still claimed
    by one of them at a time. Returns the sum of their reports.
    """
    settings = settings or get_notify_settings()
    if processes <= 1:
        return deliver_pending(settings=settings, max_batches=max_batches)
    fanned_out = fan_out(settings=settings, now=utcnow())  # once, before the others start
    context = multiprocessing.get_context("spawn")  # no fork of a threaded process
    # The workers are wired as this process is: the same journal handlers and log hook.
    wiring = (portable_handlers(), commit_hook())
    with ProcessPoolExecutor(max_workers=processes - 1, mp_context=context,
                             initializer=_wired_as, initargs=wiring) as others:
        futures = [others.submit(deliver_pending, settings=settings, max_batches=max_batches)
                   for _ in range(processes - 1)]
        reports = [deliver_pending(settings=settings, max_batches=max_batches)]
        reports += [future.result() for future in futures]
    total = DeliveryReport(fanned_out=fanned_out)
    for report in reports:
        total.fanned_out += report.fanned_out
        total.delivered += report.delivered
        total.retrying += report.retrying
        total.failed += report.failed
        total.skipped += report.skipped
        total.errors += report.errors[: max(20 - len(total.errors), 0)]
    return total


def _send_batch(pool: ThreadPoolExecutor, batch: list[Claimed], resolver: _Resolver,
                settings: NotifySettings) -> Iterator[list[Outcome]]:
    """Send a batch concurrently, yielding outcomes in small groups as they complete."""
    channels = resolver.load(batch)
    ready: list[Outcome] = []
    finished: queue.SimpleQueue[Outcome] = queue.SimpleQueue()
    submitted = 0
    for claimed in batch:
        channel = channels[claimed.id]
        if isinstance(channel, str):  # unsubscribed: nothing to send, ever
            ready.append(Outcome(claimed, ok=False, final=True, error=channel))
            continue
        if isinstance(channel, MissingChannel):  # retried, and failed visibly in the end
            ready.append(Outcome(claimed, ok=False, error=channel.reason))
            continue
        message = resolver.messages[claimed.notice_id]
        future = pool.submit(send, claimed, channel, message, settings)
        # A callback per future: waiting on hundreds of futures at once costs O(n) a call.
        future.add_done_callback(lambda done: finished.put(done.result()))
        submitted += 1
    if ready:
        yield ready
    group: list[Outcome] = []
    last = time.monotonic()
    for _ in range(submitted):
        group.append(finished.get())
        if time.monotonic() - last >= SETTLE_EVERY_SECONDS:
            yield group
            group, last = [], time.monotonic()
    if group:
        yield group
