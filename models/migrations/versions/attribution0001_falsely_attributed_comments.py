"""attribution: reports of comments falsely attributed, and their outcomes (ACUS 2021-1)

Revision ID: attribution0001
Revises: 0006
Create Date: 2026-12-07 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base
from models.migrations.append_only import refuse_changes

revision: str = "attribution0001"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = models.base.UTCDateTime(timezone=True)
    op.create_table(
        "attributionreport",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("decisioncase.id"), nullable=False),
        sa.Column("comment_id", sa.Integer(), sa.ForeignKey("comment.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("client_digest", sa.String(64), nullable=False),
        sa.Column("reported_at", when, nullable=False),
    )
    op.create_index("ix_attributionreport_comment_id", "attributionreport", ["comment_id"])
    op.create_table(
        "attributiondecision",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("attributionreport.id"),
                  nullable=False, unique=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("decided_at", when, nullable=False),
    )
    for table in ("attributionreport", "attributiondecision"):
        refuse_changes(table)


def downgrade() -> None:
    op.drop_table("attributiondecision")
    op.drop_index("ix_attributionreport_comment_id", "attributionreport")
    op.drop_table("attributionreport")
