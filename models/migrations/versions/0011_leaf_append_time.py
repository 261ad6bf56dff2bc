"""transparency: when each leaf was appended, on the case database's clock

Revision ID: 0011
Revises: 0005
Create Date: 2026-12-20 09:00:00

`logleaf.appended_at` is what `dueprocess verify` measures the unsigned tail by (the
leaves after the newest signed head): the database's own clock at the insert, never a
process's clock or a case's simulated one. The append path sets it (`dueprocess.ledger.log`);
a leaf appended before this migration has none. It is outside the leaf's record (the
record format does not change) and, like the rest of the row, cannot be updated
(migration 0002's triggers). Written by hand to run alike on SQLite and PostgreSQL:
SQLite cannot add a column whose default is the clock, so no default is declared on
either.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0011"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("logleaf", sa.Column("appended_at", models.base.UTCDateTime(timezone=True),
                                       nullable=True))


def downgrade() -> None:
    op.drop_column("logleaf", "appended_at")  # SQLite 3.35+ drops it in place
