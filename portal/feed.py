"""Atom feed of public notices (all cases, or one case), built with feedgen.

Entries carry the notice's plain text as `type="text"` content: a reader shows it as text,
so markup written into a case can never run in a feed reader.

Feed and entry ids are `tag:` URIs (RFC 4151) made of the publisher's tag authority
(DUEPROCESS_FEED_TAG_AUTHORITY and _DATE), the case id and the notice number: moving the
portal to another address changes its links but never an id, so readers do not show every
notice again as new.
"""

from __future__ import annotations

from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from dueprocess.settings import get_presentation_settings
from portal.queries import NoticePublic

EMPTY_FEED_UPDATED = datetime(2019, 9, 1, tzinfo=UTC)  # Decree 713 in force: before any notice


def feed_id(case_id: str | None = None) -> str:
    """The id of the feed of all notices, or of one case's notices."""
    prefix = get_presentation_settings().tag_prefix
    return f"{prefix}notices" if case_id is None else f"{prefix}case/{case_id}/notices"


def entry_id(notice: NoticePublic) -> str:
    """The same id in the all-cases feed and the case's feed: it is one notice."""
    return f"{get_presentation_settings().tag_prefix}case/{notice.case_id}/notice/{notice.id}"


def atom_feed(*, notices: list[NoticePublic], base_url: str, title: str, feed_path: str,
              case_id: str | None = None, language: str = "zh-CN") -> bytes:
    """The feed; with `case_id` the feed of that case, whose `alternate` is the case page."""
    base = base_url.rstrip("/")
    feed = FeedGenerator()
    feed.id(feed_id(case_id))
    feed.title(title)
    feed.link(href=f"{base}{feed_path}", rel="self")
    feed.link(href=f"{base}/cases/{case_id}" if case_id else f"{base}/", rel="alternate",
              type="text/html")
    feed.language(language)
    feed.updated(max((n.created_at for n in notices), default=EMPTY_FEED_UPDATED))
    for notice in reversed(notices):  # feedgen prepends: oldest first gives newest on top
        entry = feed.add_entry()
        entry.id(entry_id(notice))
        entry.title(notice.subject)
        entry.link(href=f"{base}/cases/{notice.case_id}", rel="alternate", type="text/html")
        entry.published(notice.created_at)
        entry.updated(notice.created_at)
        entry.content(notice.text, type="text")
        entry.summary(f"SHA-256 {notice.sha256}")
        entry.category(term=notice.kind)
    return bytes(feed.atom_str(pretty=True))
