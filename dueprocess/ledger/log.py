"""Appending to the log: every case event becomes leaves in the transaction of its change.

An event's records are built when it is published (from the rows as they are then) and
appended just before its transaction commits, so they commit or roll back with the change
(a rolled-back savepoint drops the records published inside it). Appends are serialised
by locking the single `loghead` row (FOR UPDATE on PostgreSQL; SQLite already takes its
write lock at BEGIN), so leaf indices are dense and unique under concurrent writers, and
each case's chain (`case_seq`, `case_prev`) has no forks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session

from dueprocess.errors import DueProcessError
from dueprocess.journal import CaseEvent
from dueprocess.ledger.records import (
    DECISION,
    DRAFT,
    EVIDENCE,
    REFUSAL,
    RecordSpec,
    decision_spec,
    document_facts,
    document_references,
    document_spec,
    draft_spec,
    event_spec,
    evidence_spec,
    refusal_spec,
    row_kind,
)
from dueprocess.ledger.rows import (
    BY_TABLE,
    ROWS,
    SYSTEM_SCOPE,
    RowRef,
    event_row,
    snapshot,
)
from ledger import MerkleLog, canonical_bytes, case_record, leaf_hash
from ledger.records import CLOCK, SIMULATED_TIME
from models.base import UTCDateTime
from models.cases import DraftVersion
from models.clock import CaseClock
from models.decisions import Decision
from models.evidence import Document, EvidenceItem, Refusal
from models.ledger import LOG_HEAD_ID, PENDING_RECORDS, TOUCHED_ROWS, LogHead, LogLeaf

Row = TypeVar("Row", EvidenceItem, Refusal, Decision)


class LogTampered(DueProcessError):
    """The log, or a row it covers, is not what was logged; the message names the item."""


class database_clock(FunctionElement[datetime]):
    """The case database's own clock, to the millisecond or better: when a leaf was
    appended, and what the unsigned tail's age is measured against (`verify`), so that
    neither depends on a process's clock or on a case's simulated one. On PostgreSQL the
    time of the call, not of the transaction's start, so leaves appended later never
    read earlier."""

    type = UTCDateTime()
    inherit_cache = True


@compiles(database_clock)
def _clock_default(element: database_clock, compiler: Any, **kw: Any) -> str:
    return "CURRENT_TIMESTAMP"


@compiles(database_clock, "postgresql")
def _clock_postgresql(element: database_clock, compiler: Any, **kw: Any) -> str:
    return "clock_timestamp()"


@compiles(database_clock, "sqlite")
def _clock_sqlite(element: database_clock, compiler: Any, **kw: Any) -> str:
    # CURRENT_TIMESTAMP has whole seconds only; the text is read back as UTC.
    return "strftime('%Y-%m-%d %H:%M:%f', 'now')"


# The hot path runs prebuilt Core statements on the session's connection: building ORM
# statements and flushing objects per leaf cost several times the database work.
_leaf = LogLeaf.__table__.c  # type: ignore[attr-defined]
_head = LogHead.__table__.c  # type: ignore[attr-defined]
_LOCK_HEAD = (sa.select(_head.tree_size, _head.root_hash, _head.frontier)
              .where(_head.id == LOG_HEAD_ID).with_for_update())
_INSERT_LEAF = LogLeaf.__table__.insert().values(  # type: ignore[attr-defined]
    appended_at=database_clock())
_MOVE_HEAD = (LogHead.__table__.update()  # type: ignore[attr-defined]
              .where(_head.id == LOG_HEAD_ID))
_draft = DraftVersion.__table__.c  # type: ignore[attr-defined]
_CASE: sa.BindParameter[str] = sa.bindparam("case_id")
# (A draft stored after its case closed is logged on the system chain.)
_unlogged = sa.and_(_draft.case_id == _CASE, ~sa.exists().where(
    _leaf.case_id.in_([_CASE, SYSTEM_SCOPE]), _leaf.kind == DRAFT,
    _leaf.subject_id == _draft.id))
_tail = sa.select(_leaf.case_seq, _leaf.leaf_hash).where(_leaf.case_id == _CASE)
_tail = _tail.order_by(_leaf.case_seq.desc()).limit(1)  # one probe of the unique index
# Canonical JSON has no spaces, and a quote inside a string is escaped: only the
# envelope field itself can match.
_CLOSED_MARK = '%"case_closed":true%'
_clock = CaseClock.__table__.c  # type: ignore[attr-defined]
# A case's chain tail, whether it has draft versions to log, whether its chain is closed
# and whether it runs on a simulated clock, in one round trip.
_CASE_STATE = sa.select(
    _tail.with_only_columns(_leaf.case_seq).scalar_subquery(),
    _tail.with_only_columns(_leaf.leaf_hash).scalar_subquery(),
    sa.exists().where(_unlogged),
    # Nothing follows a case-closed record on its chain: reading the tail is enough.
    _tail.with_only_columns(_leaf.record.like(_CLOSED_MARK))
    .scalar_subquery(),
    sa.exists().where(_clock.case_id == _CASE),
)
_UNLOGGED_DRAFTS = sa.select(_draft.id).where(_unlogged).order_by(_draft.version)


def locked_head(session: Session) -> MerkleLog:
    """The log (size, frontier), its head row locked until the transaction ends: the
    point where appends, and signing, are serialised."""
    row = session.connection().execute(_LOCK_HEAD).first()
    if row is None:
        raise LogTampered("the transparency log head row (loghead id 1) is missing")
    log = MerkleLog.from_frontier(row.tree_size, [bytes.fromhex(h) for h in row.frontier])
    if log.root().hex() != row.root_hash:
        raise LogTampered("the log head's root does not match its frontier; "
                          "run `dueprocess verify`")
    return log


class Appender:
    """Appends leaves in one transaction, holding the log head lock from its creation;
    `close()` moves the head past them, once (on PostgreSQL every UPDATE of the single
    head row leaves a dead row version behind).

    A record for a case whose chain is closed goes on the system chain instead, naming
    the case (`about_case`): a closed case's chain ends with its case-closed record, so a
    dossier ending there is complete. Every record of a case on a simulated clock says so
    (`clock: simulated time`)."""

    def __init__(self, session: Session, case_ids: Iterable[str]) -> None:
        """Lock the head and read the chain tails of *case_ids* (the cases to append to)."""
        self.session = session
        self.connection = session.connection()
        self.log = locked_head(session)
        self.start = self.log.size
        # Nobody else appends while we hold the lock, so the tails stay ours to move.
        self.tails: dict[str, tuple[int, bytes | None]] = {}
        self.with_unlogged_drafts: set[str] = set()
        self.closed: set[str] = set()
        self.simulated: set[str] = set()
        for case_id in case_ids:
            self._load(case_id)

    def _load(self, case_id: str) -> None:
        if case_id in self.tails:
            return
        seq, digest, drafts, closed, simulated = self.connection.execute(
            _CASE_STATE, {"case_id": case_id}).one()
        self.tails[case_id] = (-1, None) if seq is None else (seq, bytes.fromhex(digest))
        if drafts:
            self.with_unlogged_drafts.add(case_id)
        if closed:
            self.closed.add(case_id)
        if simulated:
            self.simulated.add(case_id)

    def append(self, spec: RecordSpec) -> int:
        """Append one record as the next leaf; return its index."""
        body = dict(spec.body)
        case_id = spec.case_id
        self._load(case_id)
        if case_id in self.simulated:
            body[CLOCK] = SIMULATED_TIME
        if case_id in self.closed and case_id != SYSTEM_SCOPE:
            body["about_case"] = case_id
            case_id = SYSTEM_SCOPE
            self._load(case_id)
        if spec.rows:
            body[ROWS] = [s for ref in spec.rows if (s := snapshot(self.session, ref))]
        closes = spec.closes_case and case_id != SYSTEM_SCOPE
        seq, prev = self.tails[case_id]
        record = case_record(
            case_id=case_id, kind=spec.kind, case_seq=seq + 1, case_prev=prev,
            body=body, file_sha256=spec.file_sha256, closes_case=closes,
        )
        data = canonical_bytes(record)
        digest = leaf_hash(data)
        index = self.log.append(digest)
        self.connection.execute(_INSERT_LEAF, {
            "leaf_index": index, "case_id": case_id, "case_seq": seq + 1,
            "kind": spec.kind, "subject_id": spec.subject_id, "record": data.decode("utf-8"),
            "leaf_hash": digest.hex(),
        })
        self.tails[case_id] = (seq + 1, digest)
        if closes:
            self.closed.add(case_id)
        return index

    def close(self) -> None:
        if self.log.size > self.start:
            self.connection.execute(_MOVE_HEAD, {
                "tree_size": self.log.size, "root_hash": self.log.root().hex(),
                "frontier": [h.hex() for h in self.log.frontier],
            })
            self.start = self.log.size


def append(session: Session, spec: RecordSpec) -> int:
    """Append one record now, in the session's transaction; return its leaf index."""
    appender = Appender(session, [spec.case_id])
    index = appender.append(spec)
    appender.close()
    return index


def _subject(session: Session, table: type[Row], event: CaseEvent) -> Row:
    row = session.get(table, event.subject_id)
    if row is None:  # a publisher bug: never log an event about a row that is not there
        raise LookupError(f"{event.kind} names {table.__name__} #{event.subject_id}, not found")
    return row


def specs_for_event(session: Session, event: CaseEvent) -> list[RecordSpec]:
    """The records an event adds: its row in full (plus attached documents), or itself."""
    kind = row_kind(event.kind)
    if kind is None or event.subject_id is None:
        ref = event_row(session, event.kind, event.case_id, event.subject_id, event.stage_key)
        return [event_spec(event, () if ref is None else (ref,))]
    if kind == EVIDENCE:
        item = _subject(session, EvidenceItem, event)
        specs = [evidence_spec(item)]
        for reference in document_references(item):
            document = session.get(Document, reference["sha256"])
            if document is None:
                raise LookupError(f"evidence #{item.id} refers to a document not stored")
            specs.append(document_spec(item, reference, document_facts(document)))
        return specs
    if kind == REFUSAL:
        return [refusal_spec(_subject(session, Refusal, event), event.kind)]
    assert kind == DECISION
    return [decision_spec(_subject(session, Decision, event))]


@dataclass(frozen=True)
class _Pending:
    """An event's records, built when it was published, appended when it commits."""

    within: tuple[object, ...]  # the transactions open at publication, innermost first
    case_id: str
    specs: list[RecordSpec]


_PENDING = PENDING_RECORDS
# Set when a transaction decided or closed a case: a tree head is signed after it commits.
SIGN_AFTER_COMMIT = "dueprocess.ledger.sign"


def _open_transactions(session: Session) -> tuple[object, ...]:
    chain: list[object] = []
    transaction = session.get_nested_transaction() or session.get_transaction()
    while transaction is not None:
        chain.append(transaction)
        transaction = transaction.parent
    return tuple(chain)


def log_case_event(session: Session, event: CaseEvent) -> None:
    """Journal handler: build the event's records from the rows as they are now; they are
    appended when the transaction commits (see `append_at_commit`)."""
    pending: list[_Pending] = session.info.setdefault(_PENDING, [])
    pending.append(_Pending(_open_transactions(session), event.case_id,
                            specs_for_event(session, event)))


def _unannounced(session: Session, pending: list[_Pending]) -> list[RecordSpec]:
    """Records for the covered rows changed in this transaction that no event is about:
    one record per chain and table."""
    touched = {RowRef(t, i) for t, i in session.info.pop(TOUCHED_ROWS, set())}
    announced = {ref for item in pending for spec in item.specs for ref in spec.rows}
    groups: dict[tuple[str, str], list[RowRef]] = {}
    for ref in sorted(touched - announced, key=lambda r: (r.table, r.id)):
        covered = BY_TABLE[ref.table]
        row = session.get(covered.model, ref.id)
        if row is None or (not covered.must_log(row) and not _ever_logged(session, ref)):
            continue
        groups.setdefault((covered.scope(row), ref.table), []).append(ref)
    return [
        RecordSpec(scope, BY_TABLE[table].kind, refs[0].id if len(refs) == 1 else None,
                   {"event": f"{table}.written"}, rows=tuple(refs))
        for (scope, table), refs in groups.items()
    ]


def _ever_logged(session: Session, ref: RowRef) -> bool:
    covered = BY_TABLE[ref.table]
    return session.connection().execute(sa.select(sa.exists().where(
        _leaf.case_id == SYSTEM_SCOPE, _leaf.kind == covered.kind,
        _leaf.record.like(f'%"table":"{ref.table}"%'), _leaf.record.like(f'%"id":{ref.id},%'),
    ))).scalar_one()


def append_at_commit(session: Session) -> None:
    """Append the transaction's records just before it commits, each case's draft
    versions not logged yet after its first record (a new case's draft follows
    `case.opened`, a revision `draft.revised`), then snapshots of the covered rows no
    event announced, and last the records that close a case. Taking the log head lock
    last, and holding it only for the commit, means no lock-order deadlock with the locks
    the change itself took."""
    if session.in_nested_transaction():
        return  # a savepoint is released; its records wait for the real commit
    if session.new or session.dirty or session.deleted:
        session.flush()  # rows added in this transaction must be visible (and noted) below
    pending: list[_Pending] = session.info.pop(_PENDING, None) or []
    if not pending and not session.info.get(TOUCHED_ROWS):
        return
    unannounced = _unannounced(session, pending)
    if not pending and not unannounced:
        return
    cases = list(dict.fromkeys(item.case_id for item in pending))  # in order of appearance
    appender = Appender(session, cases)  # first the lock, then what is logged already
    drafts = {c: unlogged_drafts(session, c) for c in appender.with_unlogged_drafts}
    closing: list[RecordSpec] = []
    for item in pending:
        for spec in item.specs:
            if spec.closes_case:
                closing.append(spec)
            else:
                appender.append(spec)
        for draft in drafts.pop(item.case_id, []):
            appender.append(draft_spec(draft))
    for spec in [*unannounced, *closing]:
        appender.append(spec)
    appender.close()
    if any(s.closes_case for s in closing) or any(
        s.kind == DECISION for item in pending for s in item.specs
    ):
        session.info[SIGN_AFTER_COMMIT] = True


def unlogged_drafts(session: Session, case_id: str) -> list[DraftVersion]:
    """The case's draft versions no leaf covers yet, oldest first."""
    ids = session.connection().execute(_UNLOGGED_DRAFTS, {"case_id": case_id}).scalars()
    return [draft for i in ids if (draft := session.get(DraftVersion, i)) is not None]


@sa.event.listens_for(OrmSession, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: object) -> None:
    pending: list[_Pending] | None = session.info.get(_PENDING)
    if pending:  # what was queued inside a rolled-back savepoint goes with it
        session.info[_PENDING] = [p for p in pending if previous_transaction not in p.within]


@sa.event.listens_for(OrmSession, "after_transaction_end")
def _forget_pending(session: Session, transaction: object) -> None:
    if getattr(transaction, "parent", None) is None:
        session.info.pop(_PENDING, None)


@dataclass(frozen=True)
class StoredLeaf:
    leaf_index: int
    case_id: str
    case_seq: int
    kind: str
    subject_id: int | None
    record: str
    leaf_hash: str


def stored_leaves(session: Session, *, case_id: str | None = None,
                  below: int | None = None) -> Iterator[StoredLeaf]:
    """Leaves in log order, streamed (the whole log may not fit comfortably in memory)."""
    table = LogLeaf.__table__.c  # type: ignore[attr-defined]
    query = sa.select(
        table.leaf_index, table.case_id, table.case_seq, table.kind, table.subject_id,
        table.record, table.leaf_hash,
    ).order_by(table.leaf_index)
    if case_id is not None:
        query = query.where(table.case_id == case_id)
    if below is not None:
        query = query.where(table.leaf_index < below)
    # Core rows on the session's connection: no ORM objects for a million leaves.
    for row in session.connection().execute(query.execution_options(yield_per=5000)):
        yield StoredLeaf(*row)


def checked_leaf_hashes(session: Session, size: int) -> list[bytes]:
    """Leaf hashes of leaves 0..size-1, recomputed from the stored records.

    Raises `LogTampered` naming the first leaf that is missing or whose record no longer
    hashes to its stored leaf hash (full checks are `verify`'s job; this one guards what
    gets signed or exported).
    """
    hashes: list[bytes] = []
    for leaf in stored_leaves(session, below=size):
        if leaf.leaf_index != len(hashes):
            raise LogTampered(f"leaf {len(hashes)} is missing from the log (row deleted)")
        digest = leaf_hash(leaf.record.encode("utf-8"))
        if digest.hex() != leaf.leaf_hash:
            raise LogTampered(
                f"leaf {leaf.leaf_index} ({leaf.kind}, case {leaf.case_id}): its record was "
                "changed after it was logged; run `dueprocess verify`"
            )
        hashes.append(digest)
    if len(hashes) != size:
        raise LogTampered(
            f"the log head counts {size} leaves but only {len(hashes)} are stored "
            "(the log was truncated)"
        )
    return hashes
