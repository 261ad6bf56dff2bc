"""programme: evaluations, adjustments and stops of decisions; residents' requests

Revision ID: programme0005
Revises: programme0004
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base
from models.migrations.append_only import refuse_changes

revision: str = "programme0005"
down_revision: str | None = "programme0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _case(name: str, **kwargs: bool) -> sa.Column:
    return sa.Column(name, sa.String(32), sa.ForeignKey("decisioncase.id"), nullable=False,
                     **kwargs)


def upgrade() -> None:
    when = models.base.UTCDateTime(timezone=True)
    op.create_table(
        "followup",
        sa.Column("id", sa.Integer(), primary_key=True),
        _case("case_id", unique=True),
        _case("follows", index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("started_by", sa.String(16), nullable=False),
        sa.Column("opened_by", sa.String(64), nullable=False),
        sa.Column("opened_at", when, nullable=False),
    )
    op.create_table(
        "evaluationrequest",
        sa.Column("id", sa.Integer(), primary_key=True),
        _case("case_id", index=True),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("requested_at", when, nullable=False),
        sa.UniqueConstraint("case_id", "pseudonym"),
    )
    op.create_table(
        "evaluationdue",
        sa.Column("id", sa.Integer(), primary_key=True),
        _case("case_id", unique=True),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("detected_at", when, nullable=False),
    )
    op.create_table(
        "requestcode",
        sa.Column("id", sa.Integer(), primary_key=True),
        _case("case_id", index=True),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("code_sha256", sa.String(64), nullable=False, index=True),
        sa.Column("expires_at", when, nullable=False),
        sa.Column("used_at", when, nullable=True),
    )
    for table in ("followup", "evaluationrequest", "evaluationdue"):
        refuse_changes(table)


def downgrade() -> None:
    for table in ("requestcode", "evaluationdue", "evaluationrequest", "followup"):
        op.drop_table(table)
