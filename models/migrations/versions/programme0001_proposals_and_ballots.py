"""programme: residents' proposals, moderation marks, ballots and votes

Revision ID: programme0001
Revises: 0001
Create Date: 2026-12-02 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base
from models.migrations.append_only import refuse_changes

revision: str = "programme0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("programme",)
depends_on: str | Sequence[str] | None = ("0002",)  # the append-only trigger function

APPEND_ONLY = ("proposal", "proposalmark", "vote")


def _utc(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, models.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "proposal",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False, index=True),
        sa.Column("receipt_number", sa.String(40), nullable=False, unique=True),
        sa.Column("category", sa.String(60), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("street", sa.String(100), nullable=True),
        sa.Column("place", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("author", sa.String(100), nullable=True),
        sa.Column("client_digest", sa.String(64), nullable=False),
        _utc("submitted_at"),
    )
    op.create_table(
        "proposalmark",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("proposal_id", sa.Integer(), sa.ForeignKey("proposal.id"), nullable=False,
                  index=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("merged_into", sa.Integer(), sa.ForeignKey("proposal.id"), nullable=True),
        sa.Column("marked_by", sa.String(64), nullable=False),
        _utc("marked_at"),
    )
    op.create_table(
        "ballot",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("roll", sa.String(16), nullable=False),
        sa.Column("choose_up_to", sa.Integer(), nullable=False),
        _utc("opens_at"), _utc("closes_at"),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _utc("created_at"), _utc("closed_at", nullable=True),
    )
    op.create_table(
        "vote",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ballot_id", sa.Integer(), sa.ForeignKey("ballot.id"), nullable=False),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        _utc("cast_at"),
        sa.UniqueConstraint("ballot_id", "pseudonym"),
    )
    op.create_table(
        "votercode",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ballot_id", sa.Integer(), sa.ForeignKey("ballot.id"), nullable=False,
                  index=True),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("code_sha256", sa.String(64), nullable=False, index=True),
        _utc("expires_at"), _utc("used_at", nullable=True),
    )
    for table in APPEND_ONLY:
        refuse_changes(table)


def downgrade() -> None:
    for table in ("votercode", "vote", "ballot", "proposalmark", "proposal"):
        op.drop_table(table)
