"""Where notices go: Apprise URLs from the operators' YAML configuration and from confirmed
public subscribers, matched to a notice's audience by Apprise tag.

Audiences are tags (see `notifications.audiences`). An Apprise URL holds
secrets: it is never logged, and shown only in Apprise's privacy form.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import apprise
from apprise.manager_plugins import NotificationManager
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from dueprocess.contact_secrets import decrypt, url_key
from dueprocess.errors import DueProcessError
from dueprocess.settings import NotifySettings
from models.notices import Subscriber
from notifications.transport.targets import Resolver, is_public_host, target_hosts

MAX_URL_LENGTH = 2000


class InvalidChannel(DueProcessError):
    """An Apprise URL that cannot be used; the message names the field and the reason."""

    http_status = 422


class NonPublicTarget(InvalidChannel):
    """A public subscription whose service would connect to a non-public address."""


@dataclass(frozen=True)
class Channel:
    key: str  # url-<HMAC>: the recipient's identity for idempotency
    url: str = field(repr=False)  # the secret Apprise URL: never shown
    privacy: str
    tags: frozenset[str]
    subscriber_id: int | None = None
    confirmed_at: datetime | None = None  # subscribers only


@cache
def known_schemes() -> frozenset[str]:
    return frozenset(NotificationManager().schemas())


def instantiate(url: str) -> Any:
    """The Apprise plugin for `url`, or InvalidChannel naming the reason (never the URL)."""
    url = url.strip()
    if not url:
        raise InvalidChannel("url: an Apprise URL is required (e.g. mailto://you@example.org)")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidChannel(f"url: longer than {MAX_URL_LENGTH} characters")
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or not scheme:
        raise InvalidChannel(
            "url: not an Apprise URL: expected SCHEME://…, e.g. mailto://you@example.org "
            "or json://host/path"
        )
    if scheme not in known_schemes():
        raise InvalidChannel(f"url: '{scheme}://' is not an Apprise notification scheme")
    if not rest:
        raise InvalidChannel(f"url: '{scheme}://' needs the rest of the address")
    try:
        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=False)
    except Exception as exc:  # each plugin raises its own type, with a readable reason
        reason = str(exc).strip() or type(exc).__name__
        raise InvalidChannel(f"url: malformed {scheme}:// URL: {reason}") from None
    if plugin is None:
        raise InvalidChannel(
            f"url: malformed {scheme}:// URL: Apprise cannot parse it (see the Apprise "
            f"documentation for the {scheme}:// form)"
        )
    return plugin


@cache
def _plugin_class(scheme: str) -> Any:
    return NotificationManager()[scheme]


def plugin_for_delivery(url: str) -> Any:
    """The Apprise plugin for an already validated URL.

    Builds it from the plugin class directly: `Apprise.instantiate` also renders a loggable
    copy of the URL, which costs ten times the rest (2 ms of a 2.3 ms instantiation).
    """
    scheme = url.partition("://")[0].lower()
    try:
        cls = _plugin_class(scheme)
        results = cls.parse_url(url)
        if results:
            return cls(**results)
    except Exception:  # the full path below gives the reason
        pass
    return instantiate(url)


def check_subscriber_url(
    url: str, *, schemes: Sequence[str], allow_private: bool = False,
    resolve: Resolver | None = None,
) -> Any:
    """Validate a URL a member of the public submits; return the Apprise plugin.

    Unless `allow_private`, the hosts the plugin would connect to must be public internet
    addresses (see `notifications.transport.targets`), checked before anything is sent.
    """
    scheme, sep, _ = url.strip().partition("://")
    if sep and scheme.lower() in known_schemes() and scheme.lower() not in schemes:
        raise InvalidChannel(
            f"url: '{scheme.lower()}://' is not accepted for public subscriptions "
            f"(accepted: {', '.join(sorted(schemes))})"
        )
    plugin = instantiate(url)
    if not allow_private:
        for host in target_hosts(plugin):
            if not is_public_host(host, resolve=resolve):
                raise NonPublicTarget(
                    f"url: the host '{host[:100]}' is not a public internet address; public "
                    "subscriptions may not reach loopback, private, link-local, multicast, "
                    "reserved or unresolvable addresses"
                )
    return plugin


def prefers_html(plugin: Any) -> bool:
    """Whether the service's preferred format is HTML (e-mail) rather than text (webhooks)."""
    formats = plugin.notify_format
    first = formats[0] if isinstance(formats, (tuple, list)) else formats
    return bool(first == apprise.NotifyFormat.HTML)


def privacy_form(plugin: Any) -> str:
    return str(plugin.url(privacy=True))[:300]


def config_channels(path: Path | None) -> list[Channel]:
    """Channels from the operators' Apprise YAML (or text) configuration file."""
    if path is None:
        return []
    if not path.is_file():
        raise DueProcessError(f"DUEPROCESS_APPRISE_CONFIG: {path}: no such file")
    config = apprise.AppriseConfig()
    if not config.add(str(path)):
        raise DueProcessError(f"DUEPROCESS_APPRISE_CONFIG: {path}: not an Apprise configuration")
    channels = []
    for plugin in config.services():
        url = str(plugin.url())
        channels.append(Channel(key=url_key(url), url=url, privacy=privacy_form(plugin),
                                tags=frozenset(str(t) for t in plugin.tags)))
    return channels


def subscriber_recipients(session: Session) -> list[Channel]:
    """Confirmed public subscribers as recipients, without their URLs (not needed to match
    an audience; decrypted only when a message is sent)."""
    rows = session.execute(
        sa_select(col(Subscriber.id), col(Subscriber.url_key), col(Subscriber.privacy_url),
                  col(Subscriber.tags), col(Subscriber.confirmed_at))
        .where(col(Subscriber.status) == "confirmed")).all()
    return [Channel(key=key, url="", privacy=privacy, tags=frozenset(tags), subscriber_id=id_,
                    confirmed_at=confirmed_at) for id_, key, privacy, tags, confirmed_at in rows]


def subscriber_channel(row: Subscriber, *, settings: NotifySettings | None = None) -> Channel:
    """A subscriber's channel with its URL decrypted, for sending."""
    return Channel(key=row.url_key, url=decrypt(row.url_ciphertext, settings=settings),
                   privacy=row.privacy_url,
                   tags=frozenset(row.tags), subscriber_id=row.id, confirmed_at=row.confirmed_at)


def matching(audience: Iterable[str], channels: Iterable[Channel]) -> list[Channel]:
    """Channels tagged with any tag of the audience, one per URL (operators' entry first)."""
    wanted = set(audience)
    chosen: dict[str, Channel] = {}
    for channel in channels:
        if channel.tags & wanted and channel.key not in chosen:
            chosen[channel.key] = channel
    return list(chosen.values())
