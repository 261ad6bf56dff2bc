"""Bulk comments (regulations.gov style): the participation officer uploads a CSV or JSONL
file of comments received by other channels, and they are stored and logged in batches.

- Who: only a participation officer assigned to the case's open participation stage.
- All or nothing: every line is checked (the same rules as the portal form) while it is
  streamed into the comment table (COPY on PostgreSQL) in one transaction; one bad line
  refuses the whole file, naming the line and the field, and nothing is stored.
- Idempotent: each comment has a source key, the source system's `id` when the file gives
  one, else the SHA-256 of its author and text with its occurrence number in the file
  (the third identical copy is `…:3`). Uploading the same file again stores nothing new; a
  longer export of the same source stores only the lines it adds.
- Logged in batches: every batch (default 10,000 comments) is one transparency-log record
  (`comments.imported`: count, first and last receipt, and the SHA-256 of its comments'
  lines, `models.notices.comment_batch_line`, in file order), appended in the same
  transaction.

File formats (UTF-8): JSONL, one object per line; CSV with a header row. Fields: `body`
(required), `author` (optional), `id` (optional, the source system's comment id).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import orjson
import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from dueprocess.contact_secrets import keyed_digest
from dueprocess.db import get_engine
from dueprocess.errors import DueProcessError, Refused
from dueprocess.journal import CaseEvent, publish
from dueprocess.rules.engine import Unmet
from dueprocess.services.cases import get_case
from dueprocess.services.identity import get_person, identity_problems
from dueprocess.settings import get_portal_settings
from models.base import utcnow
from models.notices import Comment, CommentImport, comment_batch_line
from models.people import Assignment
from models.procedure import ProcedureDefinition
from models.stages import Stage, StageStatus

ARTICLE = "Art. 15"
RULE = "COMMENT-UPLOAD"
FIELDS = ("id", "author", "body")
_FIELD_SET = frozenset(FIELDS)
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


class UploadLine(NamedTuple):
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
        if not value.isascii() and not unicodedata.is_normalized("NFC", value):
            value = unicodedata.normalize("NFC", value)
        text = value.strip()
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
        if not record.keys() <= _FIELD_SET:
            unknown = sorted(str(k) for k in record if k not in _FIELD_SET)
            self.refuse(line, unknown[0], f"unknown field (fields: {', '.join(FIELDS)})")
            return None
        problems = self.bad
        body = self._text(line, "body", record.get("body"), self.max_chars)
        if body is not None and not body:
            self.refuse(line, "body", "empty")
        elif body is None and self.bad == problems:
            self.refuse(line, "body", "missing")
        author = record.get("author")
        author = (author and self._text(line, "author", author, MAX_AUTHOR)) or None
        source_id = record.get("id")
        source_id = (source_id and self._text(line, "id", source_id, MAX_ID)) or None
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
            # 128 bits of the content digest: a short index entry, no practical collision.
            content = digest if author is None else hashlib.sha256(
                f"{author}\0{body}".encode()).hexdigest()
            seen = self.occurrences.get(content, 0) + 1
            self.occurrences[content] = seen
            key = f"h:{content[:32]}:{seen}"
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
            yield number, orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
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


_COLUMNS = ("case_id", "receipt_number", "author", "body", "sha256", "client_digest",
            "received_at", "source_key")


@dataclass
class _Batch:
    """The comments of one log record: their count, first and last receipt, and digest."""

    count: int = 0
    first: str = ""
    last: str = ""
    hasher: Any = None

    def add(self, receipt: str, line: str) -> None:
        if self.hasher is None:
            self.hasher, self.first = hashlib.sha256(), receipt
        self.hasher.update(line.encode())
        self.last = receipt
        self.count += 1


def batch_digest(rows: list[Comment]) -> str:
    """SHA-256 of a batch's comment lines in file order: what its log record holds."""
    return hashlib.sha256("".join(comment_batch_line(
        receipt_number=r.receipt_number, body=r.body, author=r.author,
        received_at=r.received_at) for r in rows).encode()).hexdigest()


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    """A value in COPY's text format (NULL is \\N)."""
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


def _store(connection: sa.Connection, rows: Iterator[tuple[Any, ...]]) -> None:
    """Insert comment rows: COPY on PostgreSQL, executemany in chunks elsewhere."""
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
            f"COPY comment ({', '.join(_COLUMNS)}) FROM STDIN"
        ) as copy:
            # COPY's text format written by hand, in chunks: psycopg's write_row adapts
            # every value and costs more than the checks.
            chunk: list[str] = []
            for row in rows:
                chunk.append("\t".join(_copy_text(v) for v in row) + "\n")
                if len(chunk) >= 2000:
                    copy.write("".join(chunk).encode())
                    chunk = []
            if chunk:
                copy.write("".join(chunk).encode())
        return
    insert = Comment.__table__.insert()  # type: ignore[attr-defined]
    values: list[dict[str, Any]] = []
    for row in rows:
        values.append(dict(zip(_COLUMNS, row, strict=True)))
        if len(values) >= 10_000:
            connection.execute(insert, values)
            values = []
    if values:
        connection.execute(insert, values)


def import_comments(
    *, case_id: str, stream: BinaryIO, filename: str, imported_by: str,
    token: str | None = None, batch_size: int = 10_000, now: datetime | None = None,
) -> ImportReport:
    """Check and store an upload of comments in one transaction, logged in batches;
    `Refused` names the bad lines, and then nothing is stored."""
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
    batches: list[_Batch] = [_Batch()]
    counts = {"lines": 0, "known": 0}

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

    with get_engine().connect() as connection, Session(
        bind=connection, expire_on_commit=False,
    ) as session:
        _authorise(session, case_id=case_id, handle=imported_by, token=token)
        # Keys the case already has: their lines are skipped (the upload is idempotent).
        known = set(session.exec(select(Comment.source_key).where(
            Comment.case_id == case_id, col(Comment.source_key).is_not(None))))
        record = CommentImport(case_id=case_id, imported_by=imported_by,
                               filename=Path(filename).name[:300], file_sha256="",
                               lines=0, started_at=now)
        session.add(record)
        session.flush()
        client = keyed_digest("comment-import", imported_by)[:64]
        prefix = f"I{record.id}-"

        def rows() -> Iterator[tuple[Any, ...]]:
            for item in checked():
                counts["lines"] += 1
                if item.source_key in known:
                    counts["known"] += 1
                    continue
                receipt = f"{prefix}{item.line}"
                if batches[-1].count >= batch_size:
                    batches.append(_Batch())
                batches[-1].add(receipt, comment_batch_line(
                    receipt_number=receipt, body=item.body, author=item.author,
                    received_at=now))
                yield (case_id, receipt, item.author, item.body, item.sha256, client, now,
                       item.source_key)

        try:
            _store(session.connection(), rows())
        except IntegrityError:
            session.rollback()
            raise DueProcessError(
                "another upload stored some of these comments meanwhile; send the file "
                "again: the comments already stored are skipped") from None
        if checker.problems or counts["lines"] == 0:
            session.rollback()
            more = checker.bad - len(checker.problems)
            problems = checker.problems or [f"file: '{filename}' has no comments"]
            raise Refused([Unmet(RULE, ARTICLE, p) for p in problems] + (
                [Unmet(RULE, ARTICLE, f"and {more} more bad lines")] if more else []))
        stored = [b for b in batches if b.count]
        for number, batch in enumerate(stored, start=1):
            publish(session, CaseEvent(
                case_id=case_id, kind="comments.imported", occurred_at=now,
                person=imported_by, subject_id=record.id, digest=batch.hasher.hexdigest(),
                body={"import_id": record.id, "batch": number, "count": batch.count,
                      "first_receipt": batch.first, "last_receipt": batch.last},
            ))
        record.file_sha256 = hasher.hexdigest()
        record.lines = counts["lines"]
        record.stored = counts["lines"] - counts["known"]
        record.batches = len(stored)
        record.finished_at = utcnow()
        session.add(record)
        session.commit()
        return ImportReport(
            case_id=case_id, import_id=record.id, file_sha256=record.file_sha256,
            lines=record.lines, stored=record.stored, already_stored=counts["known"],
            batches=record.batches, seconds=time.perf_counter() - started)
