"""Public subscriptions: subscribe with an Apprise URL, confirm through that channel,
unsubscribe through the link every notice carries.

A subscription receives nothing until it is confirmed from the link sent to the channel
itself, so nobody can subscribe someone else. The URL is stored encrypted; unsubscribing
erases it. Confirmation tokens are sent, never stored (only their SHA-256).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

import apprise
from sqlmodel import Session, col, select

from dueprocess.contact_secrets import encrypt, token_matches, unsubscribe_token, url_key
from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError, NotFound
from dueprocess.services.cases import get_case
from dueprocess.settings import NotifySettings, get_notify_settings
from models.base import utcnow
from models.notices import Subscriber
from notifications.audiences import PUBLIC, case_tag
from notifications.delivery import quiet_apprise
from notifications.render import render
from notifications.transport.channels import (
    InvalidChannel,
    NonPublicTarget,
    check_subscriber_url,
    prefers_html,
    privacy_form,
)

log = logging.getLogger(__name__)


class SubscriptionError(DueProcessError):
    """A subscription step that cannot be done; the message says why."""

    http_status = 422


@dataclass(frozen=True)
class PendingSubscription:
    subscriber_id: int
    privacy_url: str
    tag: str


def _confirm_url(settings: NotifySettings, subscriber_id: int, token: str) -> str:
    return f"{settings.portal_url.rstrip('/')}/subscriptions/confirm?s={subscriber_id}&t={token}"


def subscribe(
    *, url: str, case_id: str | None = None, now: datetime | None = None,
    settings: NotifySettings | None = None, tag: str | None = None, scope: str | None = None,
) -> PendingSubscription:
    """Record a pending subscription and send the confirmation link to the channel.

    A confirmed subscription is never changed here: anyone can submit anyone's URL, so a
    new scope for a confirmed channel is only offered, through a link sent to the channel,
    and the channel keeps receiving what it confirmed before.

    Raises InvalidChannel (malformed or refused URL), NotFound (unknown case) or
    SubscriptionError (the channel did not accept the confirmation message).
    """
    settings = settings or get_notify_settings()
    now = now or utcnow()
    named_tag, named_scope = tag, scope
    try:
        plugin = check_subscriber_url(url, schemes=settings.notify_subscriber_schemes,
                                      allow_private=settings.notify_allow_private_targets)
    except InvalidChannel as exc:
        # The scheme and the rule only: a URL, even a malformed one, may hold credentials.
        rule = ("target is not a public internet address" if isinstance(exc, NonPublicTarget)
                else "malformed or not accepted URL")
        log.warning("subscription refused: %s (%s://)", rule,
                    url.strip().partition("://")[0].lower()[:20])
        raise
    canonical = str(plugin.url())
    with session_scope() as session:
        scope = "all public notices" if settings.notify_language == "en" else "全部公开通知"
        tag = PUBLIC
        if case_id is not None:
            case = get_case(session, case_id)
            tag, scope = case_tag(case.id), f"“{case.title}” ({case.id})"
        elif named_tag is not None and named_scope is not None:  # an item's followers
            tag, scope = named_tag, named_scope
        # The token names the scope it confirms; only its digest is stored.
        token = f"{secrets.token_urlsafe(24)}.{tag}"
        key = url_key(canonical)
        row = session.exec(select(Subscriber).where(Subscriber.url_key == key)).first()
        if row is None:
            row = Subscriber(url_key=key, url_ciphertext="", privacy_url="",
                             tags=[], created_at=now)
        if row.status != "confirmed":
            # Pending or unsubscribed: nothing is received until the new link is opened.
            row.url_ciphertext = encrypt(canonical)
            row.privacy_url = privacy_form(plugin)
            row.tags = []
            row.status, row.confirmed_at, row.unsubscribed_at = "pending", None, None
        # A confirmed row keeps its status and tags: the new link can only add `tag`.
        row.confirm_token_sha256 = hashlib.sha256(token.encode()).hexdigest()
        session.add(row)
        session.flush()
        subscriber_id = row.id or 0
        privacy = row.privacy_url
    message = render("confirm_subscription",
                     {"scope": scope, "confirm_url": _confirm_url(settings, subscriber_id, token)},
                     language=settings.notify_language)
    quiet_apprise()
    as_html = prefers_html(plugin)
    try:
        ok = plugin.notify(body=message.html if as_html else message.text, title=message.subject,
                           body_format=apprise.NotifyFormat.HTML if as_html
                           else apprise.NotifyFormat.TEXT)
    except Exception:
        ok = False
    if not ok:
        raise SubscriptionError(
            f"url: the confirmation could not be delivered to {privacy} (refused, unreachable "
            "or timed out); check the address and subscribe again"
        )
    return PendingSubscription(subscriber_id, privacy, tag)


def _subscriber(session: Session, subscriber_id: int) -> Subscriber:
    row = session.get(Subscriber, subscriber_id)
    if row is None:
        raise NotFound(f"subscription {subscriber_id} not found")
    return row


def confirm(*, subscriber_id: int, token: str, now: datetime | None = None) -> Subscriber:
    """Start (or widen) a subscription with the link sent to its channel."""
    with session_scope() as session:
        row = _subscriber(session, subscriber_id)
        _, named, tag = token.rpartition(".")
        if row.status == "unsubscribed" or not tag or not token_matches(
                token, row.confirm_token_sha256):
            if row.status == "confirmed" and row.confirm_token_sha256 is None:
                return row  # the link opened twice
            log.warning("subscription %s: confirmation refused (invalid link)", subscriber_id)
            raise SubscriptionError("t: this confirmation link is not valid (used, replaced by "
                                    "a newer one, or mistyped)")
        # A link sent before tokens named their scope confirms the tags stored with it.
        row.tags = sorted({*row.tags, tag} if named else row.tags)
        if row.status != "confirmed":
            row.status, row.confirmed_at = "confirmed", now or utcnow()
        row.confirm_token_sha256 = None
        session.add(row)
        return row


def unsubscribe(*, subscriber_id: int, token: str, now: datetime | None = None) -> Subscriber:
    """End the subscription and erase its URL (only the keyed digest stays)."""
    with session_scope() as session:
        row = _subscriber(session, subscriber_id)
        if not hmac.compare_digest(token, unsubscribe_token(subscriber_id)):
            log.warning("subscription %s: unsubscribe refused (invalid link)", subscriber_id)
            raise SubscriptionError("t: this unsubscribe link is not valid")
        if row.status != "unsubscribed":
            row.status, row.unsubscribed_at = "unsubscribed", now or utcnow()
            row.url_ciphertext, row.privacy_url, row.tags = "", "(erased)", []
            row.confirm_token_sha256 = None
            session.add(row)
        return row


def list_subscribers(session: Session) -> list[Subscriber]:
    return list(session.exec(select(Subscriber).order_by(col(Subscriber.id))))
