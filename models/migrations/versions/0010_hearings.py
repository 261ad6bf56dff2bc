"""hearings: announced by dueprocess, append-only (Art. 16)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 17:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

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
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER hearing_append_only BEFORE UPDATE OR DELETE ON hearing "
                   "FOR EACH ROW EXECUTE FUNCTION dueprocess_refuse_change()")
        op.execute("CREATE TRIGGER hearing_refuse_truncate BEFORE TRUNCATE ON hearing "
                   "FOR EACH STATEMENT EXECUTE FUNCTION dueprocess_refuse_change()")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER hearing_refuse_{action.lower()} BEFORE {action} ON hearing "
                f"BEGIN SELECT RAISE(ABORT, 'hearing is append-only; {action} refused'); END")


def downgrade() -> None:
    op.drop_table("hearing")
