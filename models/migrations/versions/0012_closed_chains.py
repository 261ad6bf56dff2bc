"""transparency: nothing follows a case-closed record on its chain

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-20 10:00:00

A chain that ends with a record marked `"case_closed":true` (a case's `case.closed`, a
ballot's `ballot.closed`) gets no further leaf: an INSERT into `logleaf` on such a chain
fails with an error naming the case. dueprocess's own append path never tries (it logs
anything later about the case on the `system` chain, with `about_case`), so the trigger
stops only writes that go around it, and a dossier that ends on the case-closed record
is complete (docs/dossier-format.md §4.1). `dueprocess verify` names a leaf after a
case-closed record too, for a database whose trigger was dropped.

The closing record is found as the append path finds it: the chain's leaf with the
highest `case_seq` (one probe of the unique index on `(case_id, case_seq)`), whose
canonical JSON holds the envelope field `"case_closed":true` (canonical JSON has no
spaces, and a quote inside a string is escaped, so only the field itself matches).

PostgreSQL raises SQLSTATE 23001 (an IntegrityError, like migration 0002's triggers).
SQLite before 3.47 takes only a literal message in RAISE(), so its trigger makes the
message out of the one built-in error that quotes its argument, a JSON path error
(`JSON path error near 'logleaf: case … is closed …'`, an OperationalError), and raises
a literal message after it should that ever not fail.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Escaped for op.execute, which reads `:name` as a bind parameter.
CLOSED_MARK = r'"case_closed"\:true'
CHAIN_TAIL = ("(SELECT tail.record FROM logleaf AS tail WHERE tail.case_id = NEW.case_id "
              "ORDER BY tail.case_seq DESC LIMIT 1)")
WHY = ("is closed: its chain ends with its case-closed record, and a leaf after it is "
       "refused (dueprocess logs later records about a closed case on the system chain, "
       "with about_case)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION dueprocess_refuse_after_closed() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF strpos(COALESCE({CHAIN_TAIL}, ''), '{CLOSED_MARK}') > 0 THEN
                    RAISE EXCEPTION USING ERRCODE = '23001',
                        MESSAGE = 'logleaf: case ' || NEW.case_id || ' {WHY}; INSERT refused';
                END IF;
                RETURN NEW;
            END
            $$
            """
        )
        op.execute("CREATE TRIGGER logleaf_closed_chain BEFORE INSERT ON logleaf "
                   "FOR EACH ROW EXECUTE FUNCTION dueprocess_refuse_after_closed()")
    else:
        op.execute(
            "CREATE TRIGGER logleaf_closed_chain BEFORE INSERT ON logleaf "
            f"WHEN instr(COALESCE({CHAIN_TAIL}, ''), '{CLOSED_MARK}') > 0 "
            "BEGIN "
            f"SELECT json_extract('{{}}', 'logleaf: case ' || NEW.case_id || ' {WHY}; "
            "INSERT refused'); "
            "SELECT RAISE(ABORT, 'logleaf: the case is closed; INSERT refused'); "
            "END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS logleaf_closed_chain ON logleaf")
        op.execute("DROP FUNCTION IF EXISTS dueprocess_refuse_after_closed()")
    else:
        op.execute("DROP TRIGGER IF EXISTS logleaf_closed_chain")
