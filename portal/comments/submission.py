"""Public comments on a case: accepted only while its comment window is open, stored as
received with a receipt number, and logged by digest in the case's transparency log.

Intake takes no lock on the case row: the comment window is checked with a plain read, and
comments sent at the same time are stored and logged together (`portal.comments.intake`).
Bulk uploads are in `portal.comments.upload`, campaign clusters in `portal.comments.clusters`.

`comments_for_case` pages through what the participation officer's adoption statement
answers; the participation gate counts them (`load_facts` → `CaseFacts.public_comments`, rule
PP-EVERY-OPINION-ANSWERED) and stays shut while the evidence declares fewer opinions.
"""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from dueprocess.contact_secrets import keyed_digest
from dueprocess.services.case_clock import case_time
from dueprocess.settings import get_portal_settings
from models.notices import Comment, CommentWindow
from portal.comments.intake import PendingComment, enqueue, wait
from portal.comments.rules import CommentRefused


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The length limit (DUEPROCESS_COMMENT_MAX_CHARS) is checked on the normalised text, so
    # that an oversized comment gets 413 with the limit named.
    body: str = Field(description="The comment, plain text, at most "
                                  "DUEPROCESS_COMMENT_MAX_CHARS (default 5000) characters")
    author: str | None = Field(default=None, max_length=100,
                               description="Optional name to publish with the comment")


class CommentPublic(BaseModel):
    receipt_number: str
    author: str | None
    body: str
    sha256: str
    received_at: datetime


class CommentReceipt(BaseModel):
    case_id: str
    receipt_number: str
    received_at: datetime
    sha256: str = Field(description="SHA-256 of the UTF-8 comment body as stored")


class CaseComments(BaseModel):
    """One page of a case's comments, oldest first, and how many the case has in all."""

    case_id: str
    count: int = Field(description="Every comment the case has received")
    comments: list[CommentPublic] = Field(description="This page, oldest first")
    limit: int = Field(description="At most this many comments per page")
    next_cursor: int | None = Field(
        default=None, description="Pass as ?after= for the next page; null on the last page")


MAX_PAGE = 500  # a page is read and rendered in one request


def window_is_open(window: CommentWindow | None, now: datetime) -> bool:
    return window is not None and window.opens_at <= now < window.closes_at


def clean_text(value: str, *, field: str, max_chars: int, required: bool) -> str:
    """Normalise (NFC, trimmed) and check a field; refuse control characters."""
    text = unicodedata.normalize("NFC", value).strip()
    if required and not text:
        raise CommentRefused(f"{field}: empty; write your comment before sending it")
    if len(text) > max_chars:
        raise CommentRefused(f"{field}: {len(text)} characters, over the limit of {max_chars}",
                             status=413)
    bad = [c for c in text if unicodedata.category(c) == "Cc" and c not in "\n\r\t"]
    if bad:
        raise CommentRefused(f"{field}: contains control characters (e.g. U+{ord(bad[0]):04X})")
    return text


def _pending(*, case_id: str, comment: CommentCreate, client: str,
             now: datetime | None) -> PendingComment:
    """The comment checked and normalised, ready for the intake writer."""
    settings = get_portal_settings()
    body = clean_text(comment.body, field="body", max_chars=settings.comment_max_chars,
                      required=True)
    author = clean_text(comment.author or "", field="author", max_chars=100, required=False)
    return PendingComment(
        case_id=case_id, body=body, author=author or None,
        sha256=hashlib.sha256(body.encode()).hexdigest(),
        client_digest=keyed_digest("comment-client", client)[:64],
        received_at=now or case_time(case_id))  # a simulated case's window runs on its clock


def _receipt(pending: PendingComment, receipt_number: str) -> CommentReceipt:
    return CommentReceipt(case_id=pending.case_id, receipt_number=receipt_number,
                          received_at=pending.received_at, sha256=pending.sha256)


def submit_comment(
    *, case_id: str, comment: CommentCreate, client: str, now: datetime | None = None,
) -> CommentReceipt:
    """Store a comment and return its receipt, or raise CommentRefused / NotFound."""
    pending = _pending(case_id=case_id, comment=comment, client=client, now=now)
    return _receipt(pending, enqueue(pending).result())


async def submit_comment_async(
    *, case_id: str, comment: CommentCreate, client: str, now: datetime | None = None,
) -> CommentReceipt:
    """`submit_comment` for an event loop: it waits for the receipt without blocking."""
    pending = _pending(case_id=case_id, comment=comment, client=client, now=now)
    return _receipt(pending, await wait(enqueue(pending)))


def comments_for_case(
    session: Session, *, case_id: str, limit: int = 50, after: int | None = None,
) -> CaseComments:
    """One page of a case's comments, oldest first: at most *limit* after the cursor
    *after* (the `next_cursor` of the previous page), with the case's total count."""
    limit = max(1, min(limit, MAX_PAGE))
    query = select(Comment).where(Comment.case_id == case_id)
    if after is not None:
        query = query.where(col(Comment.id) > after)
    rows = list(session.exec(query.order_by(col(Comment.id)).limit(limit + 1)))
    count = session.exec(select(func.count()).select_from(Comment).where(
        Comment.case_id == case_id)).one()
    more = len(rows) > limit
    rows = rows[:limit]
    return CaseComments(
        case_id=case_id, count=count, limit=limit,
        next_cursor=rows[-1].id if more and rows else None,
        comments=[CommentPublic(receipt_number=r.receipt_number, author=r.author, body=r.body,
                                sha256=r.sha256, received_at=r.received_at) for r in rows],
    )
