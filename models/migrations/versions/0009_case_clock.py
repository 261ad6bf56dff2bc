"""case clock: the simulated time of a demo or test case

Revision ID: 0009
Revises: 0001
Create Date: 2026-12-02 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0009"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("witnessed_time",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "caseclock",
        sa.Column("case_id", sa.String(32), sa.ForeignKey("decisioncase.id"), primary_key=True),
        sa.Column("offset_seconds", sa.Float(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("caseclock")
