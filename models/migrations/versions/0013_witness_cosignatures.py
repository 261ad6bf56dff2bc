"""transparency: witnesses' cosignatures (C2SP tlog-cosignature/v1) of signed checkpoints

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 21:30:00

Append-only like the other log tables: UPDATE and DELETE are refused by triggers, so a
good cosignature is never replaced.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "witnesscosignature",
        sa.Column("tree_size", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("witness", sa.String(200), primary_key=True),
        sa.Column("key_id", sa.String(8), primary_key=True),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("received_at", models.base.UTCDateTime(timezone=True), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        # dueprocess_refuse_change() comes with migration 0002.
        op.execute("CREATE TRIGGER witnesscosignature_append_only BEFORE UPDATE OR DELETE ON "
                   "witnesscosignature FOR EACH ROW EXECUTE FUNCTION dueprocess_refuse_change()")
        op.execute("CREATE TRIGGER witnesscosignature_refuse_truncate BEFORE TRUNCATE ON "
                   "witnesscosignature FOR EACH STATEMENT EXECUTE FUNCTION "
                   "dueprocess_refuse_change()")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER witnesscosignature_refuse_{action.lower()} BEFORE {action} ON "
                f"witnesscosignature BEGIN SELECT RAISE(ABORT, 'witnesscosignature is "
                f"append-only; {action} refused'); END"
            )


def downgrade() -> None:
    op.drop_table("witnesscosignature")
