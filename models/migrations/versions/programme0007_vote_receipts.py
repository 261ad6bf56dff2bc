"""programme: vote receipts find a vote's leaf by one index probe

Revision ID: programme0007
Revises: programme0005
Create Date: 2026-12-07 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "programme0007"
down_revision: str | None = "programme0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Only vote leaves are indexed (`programme.receipt_log`): the log's other appends pay nothing.
_VOTES = sa.text("kind = 'vote'")


def upgrade() -> None:
    op.create_index("ix_logleaf_vote", "logleaf", ["case_id", "subject_id"],
                    postgresql_where=_VOTES, sqlite_where=_VOTES)


def downgrade() -> None:
    op.drop_index("ix_logleaf_vote", table_name="logleaf")
