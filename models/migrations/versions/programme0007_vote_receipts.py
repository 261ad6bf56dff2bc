"""programme: vote receipts find a vote's leaf by one index probe; the resident register

Revision ID: programme0007
Revises: programme0006
Create Date: 2026-12-07 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base
from models.migrations.append_only import refuse_changes

revision: str = "programme0007"
down_revision: str | None = "programme0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Only vote leaves are indexed (`programme.receipts`): the log's other appends pay nothing.
_VOTES = sa.text("kind = 'vote'")


def upgrade() -> None:
    op.create_index("ix_logleaf_vote", "logleaf", ["case_id", "subject_id"],
                    postgresql_where=_VOTES, sqlite_where=_VOTES)
    op.create_table(
        "residentregister",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("issuer", sa.String(300), nullable=False),
        sa.Column("residents", sa.Integer(), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("imported_by", sa.String(64), nullable=False),
        sa.Column("imported_at", models.base.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "resident",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("register_id", sa.Integer(), sa.ForeignKey("residentregister.id"),
                  nullable=False),
        sa.Column("resident_id", sa.String(255), nullable=False),
        sa.Column("street", sa.String(100), nullable=False),
        sa.Column("community", sa.String(100), nullable=False),
        sa.UniqueConstraint("register_id", "resident_id"),
    )
    for table in ("residentregister", "resident"):  # an import is never changed
        refuse_changes(table)


def downgrade() -> None:
    op.drop_table("resident")
    op.drop_table("residentregister")
    op.drop_index("ix_logleaf_vote", table_name="logleaf")
