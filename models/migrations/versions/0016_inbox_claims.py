"""inbox candidate groups, task holders and saved filters

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-07 22:40:00

A stage may be offered to a candidate group (a role or a unit); a member claims it
(`taskholder`, the current holder; the acts themselves are journal events). People save
named inbox filters (`savedfilter`). The inbox list is one query that starts from the
person's assignments (`ix_assignment_person`), groups (`ix_stagecandidate_group`) and
holds, and reaches their stage rows by the stage's unique (case_id, key).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0016"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, models.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "stagecandidate",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("decisioncase.id"), nullable=False),
        sa.Column("stage_key", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
        _utc("added_at", False),
        sa.UniqueConstraint("case_id", "stage_key", "kind", "value"),
    )
    op.create_index("ix_stagecandidate_group", "stagecandidate",
                    ["kind", "value", "case_id", "stage_key"])
    op.create_table(
        "taskholder",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("decisioncase.id"), nullable=False),
        sa.Column("stage_key", sa.String(64), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        _utc("since", False),
        sa.UniqueConstraint("case_id", "stage_key"),
    )
    op.create_index("ix_taskholder_person_id", "taskholder", ["person_id"])
    op.create_table(
        "savedfilter",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("case_id", sa.String(32), nullable=False, server_default=""),
        sa.Column("stage_key", sa.String(64), nullable=False, server_default=""),
        _utc("due_before", True),
        sa.Column("overdue_only", sa.Boolean(), nullable=False, server_default=sa.false()),
        _utc("created_at", False),
        sa.UniqueConstraint("person_id", "name"),
    )
    op.create_index("ix_savedfilter_person_id", "savedfilter", ["person_id"])
    op.create_index("ix_assignment_person", "assignment", ["person_id", "case_id", "stage_key"])


def downgrade() -> None:
    op.drop_index("ix_assignment_person", "assignment")
    op.drop_table("savedfilter")
    op.drop_table("taskholder")
    op.drop_table("stagecandidate")
