"""statutory rules: credentials, interest declarations, panel notes, case initiation, draft revisions

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-26 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("statutory_rules",)
depends_on: str | Sequence[str] | None = None


def _utc(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, models.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "credential",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=True, unique=True),
        sa.Column("public_key", sa.String(64), nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        _utc("created_at", False),
        _utc("revoked_at", True),
    )
    op.create_index("ix_credential_person_id", "credential", ["person_id"])
    op.create_table(
        "interestdeclaration",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("decisioncase.id"), nullable=False),
        sa.Column("stage_key", sa.String(64), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("direct_interest", sa.Boolean(), nullable=False),
        sa.Column("interests", sa.Text(), nullable=False),
        sa.Column("declared_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        _utc("recorded_at", False),
    )
    op.create_index("ix_interestdeclaration_case_id", "interestdeclaration", ["case_id"])
    op.create_table(
        "panelnote",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("decisioncase.id"), nullable=False),
        sa.Column("stage_key", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        _utc("recorded_at", False),
    )
    op.create_index("ix_panelnote_case_id", "panelnote", ["case_id"])
    op.add_column("decisioncase", sa.Column("initiation", sa.JSON(), nullable=True))
    op.add_column("draftversion", sa.Column("created_by", sa.String(64), nullable=True))
    op.add_column("draftversion", sa.Column("reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("draftversion") as batch_op:
        batch_op.drop_column("reason")
        batch_op.drop_column("created_by")
    with op.batch_alter_table("decisioncase") as batch_op:
        batch_op.drop_column("initiation")
    op.drop_index("ix_panelnote_case_id", table_name="panelnote")
    op.drop_table("panelnote")
    op.drop_index("ix_interestdeclaration_case_id", table_name="interestdeclaration")
    op.drop_table("interestdeclaration")
    op.drop_index("ix_credential_person_id", table_name="credential")
    op.drop_table("credential")
