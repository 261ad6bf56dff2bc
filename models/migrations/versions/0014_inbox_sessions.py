"""inbox sessions held on the server

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 21:30:00

The inbox's cookie carried the whole session, so logging out could not end it. A session
is now a row (`inboxlogin`), named in the cookie by a random token stored as its SHA-256,
ended by logout, by the person from the sessions page, or by revoking the credential it
logged in with. Form codes are stored as a keyed digest from now on: codes issued before
this revision (unkeyed SHA-256) no longer match and are marked consumed here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0008"  # formcode, credential


def _utc(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, models.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "inboxlogin",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("credential_id", sa.Integer(), sa.ForeignKey("credential.id"),
                  nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("user_agent", sa.String(200), nullable=False, server_default=""),
        _utc("started_at", False),
        _utc("expires_at", False),
        _utc("ended_at", True),
        sa.Column("ended_why", sa.String(32), nullable=False, server_default=""),
    )
    op.create_index("ix_inboxlogin_person_id", "inboxlogin", ["person_id"])
    op.execute("UPDATE formcode SET consumed_at = issued_at WHERE consumed_at IS NULL")


def downgrade() -> None:
    op.drop_index("ix_inboxlogin_person_id", "inboxlogin")
    op.drop_table("inboxlogin")
