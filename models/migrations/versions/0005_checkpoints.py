"""transparency: signed checkpoints (C2SP tlog-checkpoint signed notes) beside each tree head

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-02 05:40:00

Append-only like the other log tables: UPDATE and DELETE are refused by triggers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signedcheckpoint",
        sa.Column("tree_size", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("origin", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        # dueprocess_refuse_change() comes with migration 0002.
        op.execute("CREATE TRIGGER signedcheckpoint_append_only BEFORE UPDATE OR DELETE ON "
                   "signedcheckpoint FOR EACH ROW EXECUTE FUNCTION dueprocess_refuse_change()")
        op.execute("CREATE TRIGGER signedcheckpoint_refuse_truncate BEFORE TRUNCATE ON "
                   "signedcheckpoint FOR EACH STATEMENT EXECUTE FUNCTION "
                   "dueprocess_refuse_change()")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER signedcheckpoint_refuse_{action.lower()} BEFORE {action} ON "
                "signedcheckpoint BEGIN SELECT RAISE(ABORT, 'signedcheckpoint is append-only'); "
                "END"
            )


def downgrade() -> None:
    op.drop_table("signedcheckpoint")
