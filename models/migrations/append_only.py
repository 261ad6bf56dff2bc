"""Make a table append-only in a migration: its rows are refused UPDATE and DELETE (and
TRUNCATE on PostgreSQL), as migration 0002 does for the evidence tables, with the same
trigger function there."""

from __future__ import annotations

from alembic import op


def refuse_changes(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION dueprocess_refuse_change()")
        op.execute(f"CREATE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION dueprocess_refuse_change()")
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER {table}_refuse_{action.lower()} BEFORE {action} ON {table} "
                   f"BEGIN SELECT RAISE(ABORT, '{table} is append-only; {action} refused'); END")
