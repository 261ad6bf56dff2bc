"""notifications: notices, deliveries, subscribers, consultations, comments

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-26 06:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("notifications",)
depends_on: str | Sequence[str] | None = None


def _utc(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, models.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("decisioncase.id"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(10), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False, unique=True),
        _utc("created_at", False),
        _utc("fanned_out_at", True),
        _utc("settled_at", True),
    )
    op.create_index("ix_notice_case_id", "notice", ["case_id"])
    op.create_table(
        "subscriber",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url_key", sa.String(80), nullable=False, unique=True),
        sa.Column("url_ciphertext", sa.Text(), nullable=False),
        sa.Column("privacy_url", sa.String(300), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("confirm_token_sha256", sa.String(64), nullable=True),
        _utc("created_at", False),
        _utc("confirmed_at", True),
        _utc("unsubscribed_at", True),
    )
    op.create_table(
        "noticedelivery",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("notice_id", sa.Integer(), sa.ForeignKey("notice.id"), nullable=False),
        sa.Column("recipient_key", sa.String(80), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), sa.ForeignKey("subscriber.id"), nullable=True),
        sa.Column("channel", sa.String(300), nullable=False),
        sa.Column("idempotency_key", sa.String(120), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _utc("next_attempt_at", False),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        _utc("lease_until", True),
        sa.Column("last_error", sa.String(500), nullable=True),
        _utc("delivered_at", True),
        _utc("created_at", False),
        sa.UniqueConstraint("notice_id", "recipient_key"),
    )
    op.create_index("ix_noticedelivery_notice_id", "noticedelivery", ["notice_id"])
    op.create_index("ix_noticedelivery_status", "noticedelivery", ["status"])
    op.create_table(
        "commentwindow",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("decisioncase.id"), nullable=False,
                  unique=True),
        sa.Column("stage_key", sa.String(64), nullable=False),
        _utc("opens_at", False),
        _utc("closes_at", False),
        sa.Column("shortened_reason", sa.Text(), nullable=True),
        _utc("closed_at", True),
    )
    op.create_table(
        "comment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("decisioncase.id"), nullable=False),
        sa.Column("receipt_number", sa.String(40), nullable=False, unique=True),
        sa.Column("author", sa.String(100), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("client_digest", sa.String(64), nullable=False),
        _utc("received_at", False),
    )
    op.create_index("ix_comment_case_id", "comment", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_comment_case_id", "comment")
    op.drop_table("comment")
    op.drop_table("commentwindow")
    op.drop_index("ix_noticedelivery_status", "noticedelivery")
    op.drop_index("ix_noticedelivery_notice_id", "noticedelivery")
    op.drop_table("noticedelivery")
    op.drop_table("subscriber")
    op.drop_index("ix_notice_case_id", "notice")
    op.drop_table("notice")
