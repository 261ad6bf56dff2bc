"""transparency log: leaves, log head, signed tree heads, consistency proofs; append-only
triggers on the log and on the evidence tables it covers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 09:00:00

Written by hand to run alike on SQLite and PostgreSQL. The triggers make UPDATE, DELETE
(and on PostgreSQL TRUNCATE) fail with an integrity error naming the table; the single
log-head row may only be updated to a larger tree size.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("transparency",)
depends_on: str | Sequence[str] | None = None

# Rows that are written once and never changed: the evidence the log covers, and the log.
APPEND_ONLY_TABLES = (
    "evidenceitem",
    "refusal",
    "document",
    "decision",
    "draftversion",
    "logleaf",
    "publishedtreehead",
    "consistencyproof",
)
EMPTY_ROOT_HEX = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"  # SHA-256("")


def upgrade() -> None:
    op.create_table(
        "logleaf",
        sa.Column("leaf_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("case_seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("leaf_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("leaf_index"),
        sa.UniqueConstraint("case_id", "case_seq"),
    )
    op.create_table(
        "loghead",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tree_size", sa.Integer(), nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("frontier", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "publishedtreehead",
        sa.Column("tree_size", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.String(length=44), nullable=False),
        sa.Column("timestamp", sa.String(length=24), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=88), nullable=False),
        sa.Column("published_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tree_size"),
    )
    op.create_table(
        "consistencyproof",
        sa.Column("old_size", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("new_size", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("proof", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("old_size", "new_size"),
    )
    # The head row exists from the start, so concurrent first appends lock it rather
    # than race to insert it.
    op.bulk_insert(
        sa.table(
            "loghead",
            sa.column("id", sa.Integer()),
            sa.column("tree_size", sa.Integer()),
            sa.column("root_hash", sa.String()),
            sa.column("frontier", sa.JSON()),
        ),
        [{"id": 1, "tree_size": 0, "root_hash": EMPTY_ROOT_HEX, "frontier": []}],
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgres_triggers()
    else:
        _sqlite_triggers()


def _sqlite_triggers() -> None:
    for table in APPEND_ONLY_TABLES:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_refuse_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only; {action} refused'); END"
            )
    op.execute(
        "CREATE TRIGGER loghead_forward_only BEFORE UPDATE ON loghead "
        "WHEN NEW.id <> OLD.id OR NEW.tree_size <= OLD.tree_size "
        "BEGIN SELECT RAISE(ABORT, 'loghead only moves forward; UPDATE refused'); END"
    )
    op.execute(
        "CREATE TRIGGER loghead_refuse_delete BEFORE DELETE ON loghead "
        "BEGIN SELECT RAISE(ABORT, 'loghead only moves forward; DELETE refused'); END"
    )


def _postgres_triggers() -> None:
    # SQLSTATE 23001 (restrict_violation) surfaces as an IntegrityError, as on SQLite.
    op.execute(
        """
        CREATE FUNCTION dueprocess_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION USING ERRCODE = '23001',
                MESSAGE = TG_TABLE_NAME || ' is append-only; ' || TG_OP || ' refused';
        END
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION dueprocess_loghead_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'UPDATE' OR NEW.id <> OLD.id OR NEW.tree_size <= OLD.tree_size THEN
                RAISE EXCEPTION USING ERRCODE = '23001',
                    MESSAGE = 'loghead only moves forward; ' || TG_OP || ' refused';
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    for table in APPEND_ONLY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION dueprocess_refuse_change()"
        )
        # TRUNCATE skips row triggers; refuse it separately.
        op.execute(
            f"CREATE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION dueprocess_refuse_change()"
        )
    op.execute(
        "CREATE TRIGGER loghead_forward_only BEFORE UPDATE OR DELETE ON loghead "
        "FOR EACH ROW EXECUTE FUNCTION dueprocess_loghead_forward_only()"
    )
    op.execute(
        "CREATE TRIGGER loghead_refuse_truncate BEFORE TRUNCATE ON loghead "
        "FOR EACH STATEMENT EXECUTE FUNCTION dueprocess_loghead_forward_only()"
    )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in APPEND_ONLY_TABLES[:5]:  # the core tables stay; their triggers go
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_truncate ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_delete")
    for table in ("consistencyproof", "publishedtreehead", "loghead", "logleaf"):
        op.drop_table(table)  # drops their triggers with them
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS dueprocess_refuse_change()")
        op.execute("DROP FUNCTION IF EXISTS dueprocess_loghead_forward_only()")
