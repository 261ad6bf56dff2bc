"""hearings: announced by dueprocess, append-only (Art. 16)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 17:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base
from models.migrations.append_only import refuse_changes

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
# The append-only trigger function (0002) and the notice tables (0003).
depends_on: str | Sequence[str] | None = ("0002", "0003")


def upgrade() -> None:
    op.create_table(
        "hearing",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("decisioncase.id"), nullable=False),
        sa.Column("stage_key", sa.String(64), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("place", sa.String(300), nullable=False),
        sa.Column("selection_method", sa.Text(), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("announced_by", sa.String(64), nullable=False),
        sa.Column("announced_at", models.base.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_hearing_case_id", "hearing", ["case_id"])
    refuse_changes("hearing")


def downgrade() -> None:
    op.drop_table("hearing")
