"""Helpers for the transparency tests (no tests here): a fresh case database per test, a
decided case with a document and a refusal, the insider's first move — dropping the
append-only triggers of a table, and putting them back afterwards — and a forged record
after a closed case's case-closed record.

A test that tampers with a database must use `fresh_database`: `verify` checks the whole
log, so one tampered row in the session database would fail every later `verify`.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from dueprocess.db import _engine_for, migrate, session_scope
from dueprocess.demo import submissions
from dueprocess.errors import Refused
from dueprocess.ledger.log import Appender
from dueprocess.ledger.records import evidence_spec
from dueprocess.services.cases import open_case, read_case_file
from dueprocess.services.progress import advance_case
from dueprocess.services.recording import record_evidence
from dueprocess.settings import get_settings
from models.evidence import EvidenceItem
from tests.conftest import DEMO_CASE
from tests.support import VALID_STEPS, advance_to_step, token_for

DOCUMENT = b"%PDF-1.7 risk assessment report, signed and sealed"


def _admin(server_url: str, statement: str) -> None:
    engine = create_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()


@contextmanager
def fresh_database(tmp_path: Path) -> Iterator[str]:
    """A new, migrated case database (SQLite, or PostgreSQL when the suite runs on it) and
    its own tree-head publication directory, for the duration of the block."""
    server_url = os.environ.get("DUEPROCESS_TEST_DATABASE_URL")
    saved = {k: os.environ.get(k) for k in ("DUEPROCESS_DATABASE_URL", "DUEPROCESS_TREE_HEAD_DIR")}
    name = f"dueprocess_log_{secrets.token_hex(4)}"
    if server_url:
        _admin(server_url, f'CREATE DATABASE "{name}"')
        url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path / (name + '.db')}"
    os.environ["DUEPROCESS_DATABASE_URL"] = url
    os.environ["DUEPROCESS_TREE_HEAD_DIR"] = str(tmp_path / f"{name}-published")
    get_settings.cache_clear()
    try:
        migrate()
        yield url
    finally:
        _engine_for(url).dispose()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
        if server_url:
            _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def decided_case(*, document: bytes = DOCUMENT) -> str:
    """Open the demo case, try to skip to the legality review (refused), then run every
    stage to the end; the risk assessment carries *document*. Returns the case id."""
    with session_scope() as session:
        case_id = open_case(session, request=read_case_file(DEMO_CASE)).id
    advance_case(case_id=case_id)
    with suppress(Refused):
        record_evidence(case_id=case_id, stage_key="legality_review", recorded_by="sun.hao",
                        evidence=submissions.LEGALITY, channel="test", token=token_for("sun.hao"))
    attachment = {"filename": "risk-report.pdf",
                  "content_base64": base64.b64encode(document).decode()}
    for stage, by, evidence in VALID_STEPS:
        advance_to_step(case_id, stage)  # the step's day on the case clock
        if stage == "risk_assessment":
            evidence = {**evidence, "documents": [attachment]}
        record_evidence(case_id=case_id, stage_key=stage, recorded_by=by, evidence=evidence,
                        channel="test", token=token_for(by))
        advance_case(case_id=case_id)
    return case_id


@contextmanager
def triggers_dropped(session: Session, *tables: str) -> Iterator[None]:
    """Drop every trigger on *tables* inside the session's transaction, and recreate them
    from their stored definitions when the block ends (what an insider would do)."""
    connection = session.connection()
    definitions: list[str] = []
    for table in tables:
        if connection.dialect.name == "postgresql":
            rows = connection.execute(text(
                "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
                "WHERE tgrelid = CAST(:table AS regclass) AND NOT tgisinternal"
            ), {"table": table}).all()
            for trigger, definition in rows:
                connection.execute(text(f"DROP TRIGGER {trigger} ON {table}"))
                definitions.append(definition)
        else:
            rows = connection.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"
            ), {"t": table}).all()
            for trigger, definition in rows:
                connection.execute(text(f"DROP TRIGGER {trigger}"))
                definitions.append(definition)
        assert rows, f"no triggers on {table}"
    yield
    for definition in definitions:
        connection.exec_driver_sql(definition)


def forge_after_closure(session: Session, case_id: str) -> int:
    """The insider's forgery (run with the logleaf triggers dropped): a new evidence row
    of a closed case, and its record appended on the case's own chain after its
    case-closed record, through the real append path with only the redirect to the
    system chain taken out, so that every hash, chain link and the log head are right.
    Returns the forged leaf's index."""
    source = session.exec(select(EvidenceItem).where(
        EvidenceItem.case_id == case_id, EvidenceItem.stage_key == "publication")).one()
    forged = EvidenceItem.model_validate(
        {**source.model_dump(), "id": None, "idempotency_key": "after-the-closure"})
    session.add(forged)
    session.flush()
    appender = Appender(session, [case_id])
    assert case_id in appender.closed
    appender.closed.discard(case_id)
    index = appender.append(evidence_spec(forged))
    appender.close()
    return index
