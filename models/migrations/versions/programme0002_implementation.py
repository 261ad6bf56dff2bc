"""programme: implementation items, milestones, progress updates, supervision records

Revision ID: programme0002
Revises: programme0001
Create Date: 2026-12-03 08:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base
from models.migrations.append_only import refuse_changes

revision: str = "programme0002"
down_revision: str | None = "programme0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("implementationitem", "milestone", "progressupdate", "supervisionrecord")


def _utc(name: str) -> sa.Column[object]:
    return sa.Column(name, models.base.UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "implementationitem",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("decisioncase.id"), nullable=False,
                  index=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("department", sa.String(200), nullable=False, index=True),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("street", sa.String(100), nullable=True),
        sa.Column("proposal_id", sa.Integer(), sa.ForeignKey("proposal.id"), nullable=True),
        sa.Column("registered_by", sa.String(64), nullable=False),
        _utc("registered_at"),
        sa.Column("registered_on", sa.Date(), nullable=False),
    )
    op.create_table(
        "milestone",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("implementationitem.id"),
                  nullable=False, index=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("set_by", sa.String(64), nullable=False),
        _utc("set_at"),
    )
    op.create_table(
        "progressupdate",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("implementationitem.id"),
                  nullable=False, index=True),
        sa.Column("completes_milestone", sa.Integer(), sa.ForeignKey("milestone.id"),
                  nullable=True, unique=True),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        _utc("recorded_at"),
        sa.Column("recorded_on", sa.Date(), nullable=False),
    )
    op.create_table(
        "supervisionrecord",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("implementationitem.id"),
                  nullable=False, index=True),
        sa.Column("milestone_id", sa.Integer(), sa.ForeignKey("milestone.id"), nullable=False,
                  unique=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("detected_on", sa.Date(), nullable=False),
        sa.Column("department", sa.String(200), nullable=False),
        _utc("detected_at"),
    )
    for table in TABLES:
        refuse_changes(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
