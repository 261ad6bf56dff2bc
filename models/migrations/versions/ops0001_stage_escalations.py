"""operations: escalations of missed stage deadlines

Revision ID: ops0001
Revises: 0001
Create Date: 2026-11-28 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "ops0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("operations",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stageescalation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("decisioncase.id"), nullable=False),
        sa.Column("stage_key", sa.String(64), nullable=False),
        sa.Column("stage_opened_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline_days", sa.Integer(), nullable=False),
        sa.Column("escalated_to", sa.String(64), nullable=False),
        sa.Column("detected_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("case_id", "stage_key", "stage_opened_at"),
    )
    op.create_index("ix_stageescalation_case_id", "stageescalation", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_stageescalation_case_id", table_name="stageescalation")
    op.drop_table("stageescalation")
