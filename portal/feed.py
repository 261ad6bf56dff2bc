"""Atom feed of public notices (all cases, or one case), built with feedgen.

Entries carry the notice's plain text as `type="text"` content: a reader shows it as text,
so markup written into a case can never run in a feed reader.
"""

from __future__ import annotations

from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from portal.queries import NoticePublic

EMPTY_FEED_UPDATED = datetime(2019, 9, 1, tzinfo=UTC)  # Decree 713 in force: before any notice


def atom_feed(*, notices: list[NoticePublic], base_url: str, title: str, feed_path: str) -> bytes:
    base = base_url.rstrip("/")
    feed = FeedGenerator()
    feed.id(f"{base}{feed_path}")
    feed.title(title)
    feed.link(href=f"{base}{feed_path}", rel="self")
    feed.link(href=f"{base}/", rel="alternate")
    feed.language(notices[0].language if notices else "zh-CN")
    feed.updated(max((n.created_at for n in notices), default=EMPTY_FEED_UPDATED))
    for notice in reversed(notices):  # feedgen prepends: oldest first gives newest on top
        entry = feed.add_entry()
        entry.id(f"{base}/notices/{notice.id}")
        entry.title(notice.subject)
        entry.link(href=f"{base}/cases/{notice.case_id}")
        entry.published(notice.created_at)
        entry.updated(notice.created_at)
        entry.content(notice.text, type="text")
        entry.summary(f"SHA-256 {notice.sha256}")
        entry.category(term=notice.kind)
    return bytes(feed.atom_str(pretty=True))

