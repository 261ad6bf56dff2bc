"""programme: the yearly list as a Decree 713 case, and its revisions

Revision ID: programme0003
Revises: programme0002
Create Date: 2026-12-03 08:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base
from models.migrations.append_only import refuse_changes

revision: str = "programme0003"
down_revision: str | None = "programme0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "programmelist",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False, index=True),
        sa.Column("ballot_id", sa.Integer(), sa.ForeignKey("ballot.id"), nullable=False),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("decisioncase.id"), nullable=False,
                  unique=True),
        sa.Column("proposals", sa.JSON(), nullable=False),
        sa.Column("revises", sa.String(32), sa.ForeignKey("decisioncase.id"), nullable=True),
        sa.Column("opened_by", sa.String(64), nullable=False),
        sa.Column("opened_at", models.base.UTCDateTime(timezone=True), nullable=False),
    )
    refuse_changes("programmelist")


def downgrade() -> None:
    op.drop_table("programmelist")
