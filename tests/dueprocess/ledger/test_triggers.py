"""Migration 0002's triggers: evidence and log rows cannot be changed or removed, on SQLite
and PostgreSQL alike, and the log head only moves forward; migration 0012's: a closed
case's chain takes no leaf after its case-closed record."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from dueprocess.db import get_engine, session_scope
from dueprocess.journal import CaseEvent, publish
from dueprocess.ledger import publish_tree_head, verify_log
from models.base import utcnow
from tests.dueprocess.ledger.test_support import decided_case, fresh_database

# table -> a column to "update" to itself (a no-op UPDATE still fires the trigger)
APPEND_ONLY = {
    "evidenceitem": "payload_sha256", "refusal": "channel", "document": "content",
    "decision": "text", "draftversion": "text", "logleaf": "record",
    "publishedtreehead": "signature", "consistencyproof": "new_size",
}


@pytest.fixture(scope="module", autouse=True)
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One fresh database with a row in every protected table (two heads, one proof)."""
    with fresh_database(tmp_path_factory.mktemp("triggers")):
        case_id = decided_case()
        publish_tree_head(announce=lambda _: None)
        with session_scope() as session:
            publish(session, CaseEvent(case_id=case_id, kind="notice.published",
                                       occurred_at=utcnow()))
        publish_tree_head(announce=lambda _: None)
        yield


def counts() -> dict[str, int]:
    with session_scope() as session:
        return {t: session.connection().execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                for t in [*APPEND_ONLY, "loghead"]}


def refused(statement: str, message: str) -> None:
    before = counts()
    with pytest.raises(IntegrityError, match=message), session_scope() as session:
        session.connection().execute(text(statement))
    assert counts() == before


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_update_is_refused(table: str) -> None:
    column = APPEND_ONLY[table]
    refused(f"UPDATE {table} SET {column} = {column}", f"{table} is append-only; UPDATE refused")


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_delete_is_refused(table: str) -> None:
    refused(f"DELETE FROM {table}", f"{table} is append-only; DELETE refused")


def test_log_head_only_moves_forward() -> None:
    refused("UPDATE loghead SET tree_size = tree_size", "loghead only moves forward; UPDATE")
    refused("UPDATE loghead SET tree_size = tree_size - 1", "loghead only moves forward; UPDATE")
    refused("DELETE FROM loghead", "loghead only moves forward; DELETE refused")


@pytest.mark.postgres
def test_truncate_is_refused_on_postgresql() -> None:
    with session_scope() as session:
        if session.connection().dialect.name != "postgresql":
            pytest.skip("TRUNCATE is PostgreSQL's; SQLite runs it as a DELETE")
    for table in [*APPEND_ONLY, "loghead"]:
        with pytest.raises(IntegrityError, match="refused"), session_scope() as session:
            session.connection().execute(text(f"TRUNCATE {table} CASCADE"))


CLOSED = '%"case_closed":true%'
INSERT_LEAF = text("INSERT INTO logleaf (leaf_index, case_id, case_seq, kind, record, leaf_hash) "
                   "VALUES (:index, :case_id, :seq, 'evidence', '{}', :digest)")


def closing_leaf() -> tuple[str, int, str]:
    """(case id, case_seq, leaf hash) of the fixture case's case-closed record."""
    with session_scope() as session:
        case_id, seq, digest = session.connection().execute(text(
            "SELECT case_id, case_seq, leaf_hash FROM logleaf WHERE record LIKE :closed"
        ), {"closed": CLOSED}).one()
    return case_id, seq, digest


@pytest.mark.parametrize("seq_after", [1, 5], ids=["next", "with a gap"])
def test_a_leaf_after_a_case_closed_record_is_refused(seq_after: int) -> None:
    case_id, seq, digest = closing_leaf()
    size = counts()["logleaf"]
    before = counts()
    with pytest.raises(DBAPIError, match=rf"logleaf: case {case_id} is closed: its chain ends "
                                         "with its case-closed record"), \
            session_scope() as session:
        session.connection().execute(INSERT_LEAF, {
            "index": size, "case_id": case_id, "seq": seq + seq_after, "digest": digest})
    assert counts() == before


def test_chains_that_are_not_closed_still_take_leaves() -> None:
    case_id, _, digest = closing_leaf()
    with get_engine().connect() as connection:  # rolled back: the log stays as it was
        size = connection.execute(text("SELECT COUNT(*) FROM logleaf")).scalar_one()
        for offset, chain in enumerate(["system", "dp-2026-notclosed", f"{case_id}-other"]):
            seq = connection.execute(text(
                "SELECT COALESCE(MAX(case_seq) + 1, 0) FROM logleaf WHERE case_id = :c"
            ), {"c": chain}).scalar_one()
            connection.execute(INSERT_LEAF, {"index": size + offset, "case_id": chain,
                                             "seq": seq, "digest": digest})
        assert connection.execute(text("SELECT COUNT(*) FROM logleaf")).scalar_one() == size + 3
        connection.rollback()


def test_the_log_still_verifies_after_every_refused_change() -> None:
    # heads signed when the case was decided, when it closed, and by the fixture
    assert verify_log().signed_heads == 3
