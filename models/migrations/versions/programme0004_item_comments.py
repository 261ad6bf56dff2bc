"""programme: residents' comments, ratings and presses under implementation items

Revision ID: programme0004
Revises: programme0003
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base
from models.migrations.append_only import refuse_changes

revision: str = "programme0004"
down_revision: str | None = "programme0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "itemcomment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("implementationitem.id"),
                  nullable=False, index=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("press", sa.Boolean(), nullable=False),
        sa.Column("client_digest", sa.String(64), nullable=False),
        sa.Column("received_at", models.base.UTCDateTime(timezone=True), nullable=False),
    )
    refuse_changes("itemcomment")


def downgrade() -> None:
    op.drop_table("itemcomment")
