"""people: an expert's field of expertise in the register

Revision ID: 0015
Revises: 0001
Create Date: 2026-12-07 21:30:00

The inbox fills an expert's opinion in from the register (name, affiliation, field of
expertise), so the field is held with the person instead of typed with every opinion.
Empty for everyone registered before, and for people who are not experts.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("person_expertise",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("person", sa.Column("expertise", sa.String(200), nullable=False,
                                      server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.drop_column("expertise")
