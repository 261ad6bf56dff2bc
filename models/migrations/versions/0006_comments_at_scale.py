"""comments at scale: bulk uploads, their idempotency keys, campaign clusters

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-02 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0006"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "commentimport",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("decisioncase.id"), nullable=False),
        sa.Column("imported_by", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(300), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("started_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", models.base.UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_commentimport_case_id", "commentimport", ["case_id"])
    with op.batch_alter_table("comment") as batch:
        batch.add_column(sa.Column("source_key", sa.String(80), nullable=True))
        batch.create_unique_constraint("uq_comment_case_id_source_key",
                                       ["case_id", "source_key"])
    # The unique (case_id, source_key) index serves lookups by case: one index less to
    # maintain on every comment stored.
    op.drop_index("ix_comment_case_id", "comment")
    op.create_table(
        "commentcluster",
        sa.Column("comment_id", sa.Integer(), sa.ForeignKey("comment.id"), primary_key=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("decisioncase.id"), nullable=False),
        sa.Column("cluster_key", sa.String(48), nullable=True),
    )
    op.create_index("ix_commentcluster_case_id", "commentcluster", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_commentcluster_case_id", "commentcluster")
    op.drop_table("commentcluster")
    op.create_index("ix_comment_case_id", "comment", ["case_id"])
    with op.batch_alter_table("comment") as batch:
        batch.drop_constraint("uq_comment_case_id_source_key", type_="unique")
        batch.drop_column("source_key")
    op.drop_index("ix_commentimport_case_id", "commentimport")
    op.drop_table("commentimport")
