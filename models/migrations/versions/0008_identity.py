"""identity: administrators, portal passwords and OIDC subjects, single-use form codes

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-02 05:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0008"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, models.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("credential") as batch:
        batch.add_column(sa.Column("secret_hash", sa.String(200), nullable=True))
    op.create_table(
        "formcode",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("stage_key", sa.String(64), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("evidence_sha256", sa.String(64), nullable=False),
        _utc("issued_at", False),
        _utc("expires_at", False),
        _utc("consumed_at", True),
    )
    op.create_index("ix_formcode_case_id", "formcode", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_formcode_case_id", "formcode")
    op.drop_table("formcode")
    with op.batch_alter_table("credential") as batch:
        batch.drop_column("secret_hash")
