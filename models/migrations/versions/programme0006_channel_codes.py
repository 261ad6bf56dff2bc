"""programme: hardened one-time codes: attempts per code, a ballot's assurance level and
attempt budget, the assurance of each vote and evaluation request, and the aggregated
count of refused code guesses

Revision ID: programme0006
Revises: programme0005
Create Date: 2026-12-07 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "programme0006"
down_revision: str | None = "programme0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ASSURANCE = ("ballot", "vote", "evaluationrequest")
_ATTEMPTS = ("votercode", "requestcode")


def upgrade() -> None:
    for table in _ASSURANCE:
        # Rows before this revision keep the default, which their log snapshots omit
        # (dueprocess.ledger.rows); an expert ballot's level is read from its roll.
        op.add_column(table, sa.Column("assurance", sa.String(16), nullable=False,
                                       server_default="channel"))
    op.add_column("ballot", sa.Column("attempt_budget", sa.Integer(), nullable=False,
                                      server_default="10000"))
    for table in _ATTEMPTS:
        op.add_column(table, sa.Column("attempts", sa.Integer(), nullable=False,
                                       server_default="0"))
    op.create_table(
        "codeguesses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chain", sa.String(64), nullable=False, index=True),
        sa.Column("minute", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("logged_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("chain", "minute"),
    )


def downgrade() -> None:
    op.drop_table("codeguesses")
    for table in _ATTEMPTS:
        op.drop_column(table, "attempts")
    op.drop_column("ballot", "attempt_budget")
    for table in _ASSURANCE:
        op.drop_column(table, "assurance")
