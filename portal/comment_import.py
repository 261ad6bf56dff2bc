"""Bulk comments (regulations.gov style): the participation officer uploads a CSV or JSONL
file of comments received by other channels, and they are stored and logged in batches.

- Who: only a participation officer assigned to the case's open participation stage.
- Checked first, stored after: every line is checked (the same rules as the portal form)
  and staged in a temporary table; one bad line refuses the whole file, naming the line
  and the field, and nothing is stored.
- Idempotent: each comment has a source key, the source system's `id` when the file gives
  one, else the SHA-256 of its author and text with its occurrence number in the file
  (the third identical copy is `…:3`). Uploading the same file again stores nothing new; a
  longer export of the same source stores only the lines it adds.
- Batched: every batch (default 10,000 comments) is one transaction and one transparency
  log record (`comments.imported`: count, first and last receipt, and the SHA-256 of its
  "receipt sha256" lines in id order), so an interrupted upload leaves whole batches and
  resumes when sent again. On PostgreSQL the staging uses COPY.

File formats (UTF-8): JSONL, one object per line; CSV with a header row. Fields: `body`
(required), `author` (optional), `id` (optional, the source system's comment id).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from dueprocess.cases import get_case
from dueprocess.db import get_engine
from dueprocess.errors import DueProcessError, Refused
from dueprocess.identity import get_person, identity_problems
from dueprocess.journal import CaseEvent, publish
from dueprocess.rules.engine import Unmet
from models.base import utcnow
from models.notices import Comment, CommentImport
from models.people import Assignment
from models.procedure import ProcedureDefinition
from models.stages import Stage, StageStatus
from notifications.secrets import keyed_digest
from portal.settings import get_portal_settings

ARTICLE = "Art. 15"
RULE = "COMMENT-UPLOAD"
FIELDS = ("id", "author", "body")
MAX_PROBLEMS = 20  # a refusal lists this many bad lines, then says how many more
MAX_AUTHOR = 100
MAX_ID = 64
# Control characters (Unicode category Cc) other than tab, newline and carriage return.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class ImportReport(BaseModel):
    case_id: str
    import_id: int | None
    file_sha256: str
    lines: int
    stored: int
    already_stored: int
    batches: int
    seconds: float


@dataclass(frozen=True)
class UploadLine:
    line: int
    author: str | None
    body: str
    sha256: str
    source_key: str


class _Checker:
    """Checks lines one by one and keeps the first problems found."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.problems: list[str] = []
        self.bad = 0
        self.occurrences: dict[str, int] = {}
        self.ids: dict[str, int] = {}

    def refuse(self, line: int, field: str, why: str) -> None:
        self.bad += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"line {line}, field '{field}': {why}")

    def _text(self, line: int, field: str, value: Any, limit: int) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.refuse(line, field, f"must be text, not {type(value).__name__}")
            return None
        text = value if value.isascii() else unicodedata.normalize("NFC", value)
        text = text.strip()
        if len(text) > limit:
            self.refuse(line, field, f"{len(text)} characters, over the limit of {limit}")
            return None
        bad = _CONTROL.search(text)
        if bad:
            self.refuse(line, field, f"contains control characters (U+{ord(bad.group()):04X})")
            return None
        return text

    def check(self, line: int, record: Any) -> UploadLine | None:
        if not isinstance(record, dict):
            self.refuse(line, "body", "the line is not an object with a 'body' field")
            return None
        unknown = sorted(k for k in record if k not in FIELDS)
        if unknown:
            self.refuse(line, str(unknown[0]), f"unknown field (fields: {', '.join(FIELDS)})")
            return None
        problems = self.bad
        body = self._text(line, "body", record.get("body"), self.max_chars)
        if body is not None and not body:
            self.refuse(line, "body", "empty")
        elif body is None and self.bad == problems:
            self.refuse(line, "body", "missing")
        author = self._text(line, "author", record.get("author"), MAX_AUTHOR) or None
        source_id = self._text(line, "id", record.get("id"), MAX_ID) or None
        if self.bad > problems or body is None:
            return None
        digest = hashlib.sha256(body.encode()).hexdigest()
        if source_id is not None:
            first = self.ids.setdefault(source_id, line)
            if first != line:
                self.refuse(line, "id", f"'{source_id}' is also the id on line {first}")
                return None
            key = "id:" + source_id
        else:
            content = hashlib.sha256(f"{author or ''}\0{body}".encode()).hexdigest()
            seen = self.occurrences.get(content, 0) + 1
            self.occurrences[content] = seen
            key = f"h:{content}:{seen}"
        return UploadLine(line, author, body, digest, key)


def read_upload(stream: BinaryIO, *, name: str) -> Iterator[tuple[int, Any]]:
    """(line number, record) for each comment of a JSONL or CSV upload; the format comes
    from the name's suffix (.jsonl, .ndjson, .csv)."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        reader = csv.DictReader(text)
        for row in reader:
            # A row longer than the header puts its extra cells under the key None.
            yield reader.line_num, {("(extra cells)" if k is None else k): v
                                    for k, v in row.items()}
        return
    if suffix not in (".jsonl", ".ndjson"):
        raise DueProcessError(f"file: '{name}' is neither .csv nor .jsonl")
    for number, raw in enumerate(text, start=1):
        if not raw.strip():
            continue
        try:
            yield number, json.loads(raw)
        except json.JSONDecodeError as exc:
            yield number, _Unreadable(f"not JSON ({exc.msg} at column {exc.colno})")


@dataclass(frozen=True)
class _Unreadable:
    why: str


def _authorise(session: Session, *, case_id: str, handle: str, token: str | None) -> None:
    """Refuse unless *handle* is assigned to the case's open public-participation stage."""
    case = get_case(session, case_id)
    identity = identity_problems(session, handle=handle, token=token, channel="cli")
    if identity:
        raise Refused(identity)
    person = get_person(session, handle)
    procedure = ProcedureDefinition.model_validate(case.procedure)
    stages = [s.key for s in procedure.stages if s.kind == "public_participation"]
    open_stages = set(session.exec(select(Stage.key).where(
        Stage.case_id == case_id, Stage.status == StageStatus.OPEN)))
    assigned = set(session.exec(select(Assignment.stage_key).where(
        Assignment.case_id == case_id, Assignment.person_id == person.id)))
    if not [s for s in stages if s in open_stages]:
        raise Refused([Unmet(RULE, ARTICLE, f"case '{case_id}': no public-participation "
                                            "stage is open; comments are uploaded while it is")])
    if not [s for s in stages if s in open_stages and s in assigned]:
        raise Refused([Unmet(RULE, ARTICLE, f"--as: '{handle}' is not assigned to the open "
                                            "public-participation stage of this case")])


def _staging_table() -> sa.Table:
    return sa.Table(
        "comment_upload", sa.MetaData(),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("author", sa.String(MAX_AUTHOR)),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("source_key", sa.String(80), nullable=False),
        prefixes=["TEMPORARY"],
    )


def _stage_lines(connection: sa.Connection, table: sa.Table,
                 lines: Iterator[UploadLine]) -> int:
    """Put the checked lines in the staging table; return how many."""
    count = 0
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
            "COPY comment_upload (seq, line, author, body, sha256, source_key) FROM STDIN"
        ) as copy:
            for item in lines:
                count += 1
                copy.write_row((count, item.line, item.author, item.body, item.sha256,
                                item.source_key))
        return count
    chunk: list[dict[str, Any]] = []
    for item in lines:
        count += 1
        chunk.append({"seq": count, "line": item.line, "author": item.author,
                      "body": item.body, "sha256": item.sha256, "source_key": item.source_key})
        if len(chunk) >= 10_000:
            connection.execute(table.insert(), chunk)
            chunk = []
    if chunk:
        connection.execute(table.insert(), chunk)
    return count


def _batch_insert(dialect: str, table: sa.Table, *, case_id: str, import_id: int,
                  client_digest: str, now: datetime) -> Any:
    """INSERT … SELECT of one batch of staged lines (:lo ≤ seq ≤ :hi), skipping comments the
    case already has (same source key); RETURNING what was stored."""
    comment = Comment.__table__  # type: ignore[attr-defined]
    rows = sa.select(
        sa.literal(case_id), sa.literal(f"I{import_id}-") + sa.cast(table.c.line, sa.String),
        table.c.author, table.c.body, table.c.sha256, sa.literal(client_digest),
        sa.literal(now, type_=comment.c.received_at.type), table.c.source_key,
        sa.literal(import_id),
    ).where(table.c.seq.between(sa.bindparam("lo"), sa.bindparam("hi"))).order_by(table.c.seq)
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(comment)
    statement = insert.from_select(
        ["case_id", "receipt_number", "author", "body", "sha256", "client_digest",
         "received_at", "source_key", "import_id"], rows,
    ).on_conflict_do_nothing(index_elements=["case_id", "source_key"])
    return statement.returning(comment.c.id, comment.c.receipt_number, comment.c.sha256)


def batch_digest(rows: list[tuple[int, str, str]]) -> str:
    """SHA-256 of a batch's "receipt sha256" lines in id order: what its log record holds."""
    lines = "".join(f"{receipt} {sha}\n" for _, receipt, sha in sorted(rows))
    return hashlib.sha256(lines.encode()).hexdigest()


def import_comments(
    *, case_id: str, stream: BinaryIO, filename: str, imported_by: str,
    token: str | None = None, batch_size: int = 10_000, now: datetime | None = None,
) -> ImportReport:
    """Check, stage and store an upload of comments; `Refused` names the bad lines."""
    started = time.perf_counter()
    now = now or utcnow()
    settings = get_portal_settings()
    hasher = hashlib.sha256()

    class _Hashing(io.RawIOBase):  # the file's digest, computed while it is read once
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            data = stream.read(len(buffer))
            hasher.update(data)
            buffer[: len(data)] = data
            return len(data)

    checker = _Checker(settings.comment_max_chars)

    def checked() -> Iterator[UploadLine]:
        try:
            for number, record in read_upload(io.BufferedReader(_Hashing()), name=filename):
                if isinstance(record, _Unreadable):
                    checker.refuse(number, "body", record.why)
                    continue
                item = checker.check(number, record)
                if item is not None and not checker.problems:
                    yield item
        except UnicodeDecodeError as exc:
            checker.refuse(0, "file", f"not UTF-8 (byte {exc.start})")
        except csv.Error as exc:
            checker.refuse(0, "file", f"not valid CSV ({exc})")

    engine = get_engine()
    table = _staging_table()
    with engine.connect() as connection:
        with Session(bind=connection) as session:
            _authorise(session, case_id=case_id, handle=imported_by, token=token)
        connection.rollback()
        table.create(connection)
        try:
            lines = _stage_lines(connection, table, checked())
            if checker.problems:
                connection.rollback()
                more = checker.bad - len(checker.problems)
                raise Refused([Unmet(RULE, ARTICLE, p) for p in checker.problems] + (
                    [Unmet(RULE, ARTICLE, f"and {more} more bad lines")] if more else []))
            if lines == 0:
                connection.rollback()
                raise Refused([Unmet(RULE, ARTICLE, f"file: '{filename}' has no comments")])
            connection.commit()
            with Session(bind=connection, expire_on_commit=False) as session:
                record = CommentImport(case_id=case_id, imported_by=imported_by,
                                       filename=Path(filename).name[:300],
                                       file_sha256=hasher.hexdigest(), lines=lines,
                                       started_at=now)
                session.add(record)
                session.commit()
                assert record.id is not None
                statement = _batch_insert(
                    connection.dialect.name, table, case_id=case_id, import_id=record.id,
                    client_digest=keyed_digest("comment-import", imported_by)[:64], now=now)
                for lo in range(1, lines + 1, batch_size):
                    stored = [tuple(r) for r in session.connection().execute(
                        statement, {"lo": lo, "hi": lo + batch_size - 1})]
                    if stored:
                        stored.sort()
                        record.stored += len(stored)
                        record.batches += 1
                        publish(session, CaseEvent(
                            case_id=case_id, kind="comments.imported", occurred_at=now,
                            person=imported_by, subject_id=record.id,
                            digest=batch_digest(stored),  # type: ignore[arg-type]
                            body={"import_id": record.id, "batch": record.batches,
                                  "count": len(stored), "first_receipt": stored[0][1],
                                  "last_receipt": stored[-1][1]},
                        ))
                        session.add(record)
                    session.commit()
                record.finished_at = utcnow()
                session.add(record)
                session.commit()
                return ImportReport(
                    case_id=case_id, import_id=record.id, file_sha256=record.file_sha256,
                    lines=lines, stored=record.stored, already_stored=lines - record.stored,
                    batches=record.batches, seconds=time.perf_counter() - started)
        finally:
            connection.rollback()
            table.drop(connection, checkfirst=True)
            connection.commit()
