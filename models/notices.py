"""Notices, their per-recipient deliveries, public subscribers, consultation windows and
public comments.

A notice is rendered once, when it is queued, and never changed afterwards: its digest is
what the transparency log records. Each (notice, recipient) pair is one delivery row whose
idempotency key travels with the message, so a redelivery after a crash is recognisable.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import JSONColumn, UTCDateTime, timestamp_field


class Notice(SQLModel, table=True):
    """A rendered notice about a case, queued in the transaction of the change causing it."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="decisioncase.id", index=True, max_length=32)
    kind: str = Field(max_length=40, description="call_for_comments, hearing, ...")
    audience: list[str] = Field(sa_column=Column(JSONColumn, nullable=False))
    public: bool = Field(description="Shown on the portal and in the feed")
    language: str = Field(max_length=10)
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    body_html: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str = Field(max_length=64, description="SHA-256 of the RFC 8785 notice content")
    # Makes queueing idempotent: the same cause never queues the same notice twice.
    dedupe_key: str = Field(max_length=200, unique=True)
    created_at: datetime = timestamp_field()
    fanned_out_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    settled_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime),
        description="When every delivery reached delivered or failed",
    )


class NoticeDelivery(SQLModel, table=True):
    """One notice to one recipient channel (an Apprise URL, known only by its keyed digest)."""

    __table_args__ = (UniqueConstraint("notice_id", "recipient_key"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    recipient_key: str = Field(max_length=80, description="url-<HMAC of the Apprise URL>")
    subscriber_id: int | None = Field(default=None, foreign_key="subscriber.id")
    channel: str = Field(max_length=300, description="Privacy form of the URL (no secrets)")
    idempotency_key: str = Field(max_length=120, unique=True)
    status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime = timestamp_field()
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_error: str | None = Field(default=None, max_length=500)
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = timestamp_field()


class Subscriber(SQLModel, table=True):
    """A public subscriber's Apprise URL, encrypted at rest; shown only in privacy form."""

    id: int | None = Field(default=None, primary_key=True)
    url_key: str = Field(max_length=80, unique=True, description="url-<HMAC of the URL>")
    url_ciphertext: str = Field(sa_column=Column(Text, nullable=False))
    privacy_url: str = Field(max_length=300)
    tags: list[str] = Field(sa_column=Column(JSONColumn, nullable=False))
    status: str = Field(default="pending", max_length=16)  # pending, confirmed, unsubscribed
    confirm_token_sha256: str | None = Field(default=None, max_length=64)
    created_at: datetime = timestamp_field()
    confirmed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    unsubscribed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class CommentWindow(SQLModel, table=True):
    """The public comment window of a case (Art. 15), opened with the participation stage."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="decisioncase.id", unique=True, max_length=32)
    stage_key: str = Field(max_length=64)
    opens_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    closes_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    shortened_reason: str | None = Field(default=None, sa_column=Column(Text))
    closed_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime),
        description="Set when the participation stage completes before closes_at",
    )


class CommentImport(SQLModel, table=True):
    """One bulk upload of comments (CSV or JSONL) by the case's participation officer."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="decisioncase.id", index=True, max_length=32)
    imported_by: str = Field(max_length=64, description="Handle of the participation officer")
    filename: str = Field(max_length=300)
    file_sha256: str = Field(max_length=64, description="SHA-256 of the uploaded file's bytes")
    lines: int = Field(description="Comments in the file")
    stored: int = Field(default=0, description="Comments new to the case, stored by this upload")
    batches: int = Field(default=0, description="Batches stored, one log record each")
    started_at: datetime = timestamp_field()
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class Comment(SQLModel, table=True):
    """A public comment, stored as received, with its receipt number. Never changed."""

    # An uploaded comment's key (its content digest and occurrence in the file, or the
    # source system's id): uploading the same file again stores nothing new.
    __table_args__ = (UniqueConstraint("case_id", "source_key"),)

    id: int | None = Field(default=None, primary_key=True)
    # No index of its own on case_id: the (case_id, source_key) index serves the case's
    # lookups, and every index costs a bulk upload about a tenth of its time.
    case_id: str = Field(foreign_key="decisioncase.id", max_length=32)
    receipt_number: str = Field(max_length=40, unique=True)
    author: str | None = Field(default=None, max_length=100)
    body: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str = Field(max_length=64, description="SHA-256 of the UTF-8 comment body")
    client_digest: str = Field(max_length=64, description="Keyed digest of the client address")
    received_at: datetime = timestamp_field()
    source_key: str | None = Field(default=None, max_length=80,
                                   description="Key of an uploaded comment; None from the portal")


class CommentCluster(SQLModel, table=True):
    """A comment's campaign cluster (exact or near-duplicate copies), derived from the
    stored comments by `portal.comments.clusters`; recomputed, never evidence in itself. Every
    comment clustered has a row, so comments without one came after the last run."""

    comment_id: int = Field(foreign_key="comment.id", primary_key=True)
    case_id: str = Field(foreign_key="decisioncase.id", index=True, max_length=32)
    cluster_key: str | None = Field(default=None, max_length=48,
                                    description="campaign-<first member's receipt>; "
                                                "None for a comment in no cluster")


def comment_batch_line(*, receipt_number: str, body: str, author: str | None,
                       received_at: datetime) -> str:
    """One comment's line in the digest of the log record that covers it in a batch.

    Comments are logged in batches (one record per intake batch or per 10,000 uploaded
    lines); the record's digest is the SHA-256 of its comments' lines in receipt order, so
    `verify` can recompute it from the rows: a deleted, changed, backdated or re-attributed
    comment changes it.
    """
    author_sha256 = hashlib.sha256((author or "").encode("utf-8")).hexdigest()
    moment = received_at if received_at.tzinfo is None else (
        received_at.astimezone(UTC).replace(tzinfo=None))
    body_sha256 = hashlib.sha256(body.encode("utf-8")).hexdigest()
    return f"{receipt_number} {body_sha256} {author_sha256} {moment.isoformat()}\n"


class AttributionReport(SQLModel, table=True):
    """A person shown as the author of a comment says they did not send it (ACUS
    Recommendation 2021-1, falsely attributed comments). Never changed; its outcome is
    an `AttributionDecision`."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="decisioncase.id", max_length=32)
    comment_id: int = Field(foreign_key="comment.id", index=True)
    name: str = Field(max_length=100, description="The author's name as the comment shows it")
    statement: str = Field(sa_column=Column(Text, nullable=False))
    client_digest: str = Field(max_length=64, description="Keyed digest of the client address")
    reported_at: datetime = timestamp_field()


class AttributionDecision(SQLModel, table=True):
    """The logged outcome of an `AttributionReport`: upheld (the comment is shown as not
    sent by the person named, and still counted as received) or rejected, with reasons."""

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="attributionreport.id", unique=True)
    outcome: str = Field(max_length=16)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    decided_by: str = Field(max_length=64)
    decided_at: datetime = timestamp_field()
