"""Appending to the log: every case event becomes leaves in the transaction of its change.

Appends are serialised by locking the single `loghead` row (FOR UPDATE on PostgreSQL;
SQLite already takes its write lock at BEGIN), so leaf indices are dense and unique under
concurrent writers, and each case's chain (`case_seq`, `case_prev`) has no forks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar

from sqlmodel import Session, col, select

from dueprocess.errors import DueProcessError
from dueprocess.journal import CaseEvent
from dueprocess.transparency.records import (
    DECISION,
    DRAFT,
    EVIDENCE,
    REFUSAL,
    ROW_EVENTS,
    RecordSpec,
    decision_spec,
    document_facts,
    document_references,
    document_spec,
    draft_spec,
    event_spec,
    evidence_spec,
    refusal_spec,
)
from ledger import MerkleLog, canonical_bytes, case_record, leaf_hash
from models.cases import DraftVersion
from models.decisions import Decision
from models.evidence import Document, EvidenceItem, Refusal
from models.ledger import LOG_HEAD_ID, LogHead, LogLeaf

Row = TypeVar("Row", EvidenceItem, Refusal, Decision)


class LogTampered(DueProcessError):
    """The log, or a row it covers, is not what was logged; the message names the item."""


def locked_head(session: Session) -> LogHead:
    """The log head, locked until the transaction ends (the append serialisation point)."""
    head = session.exec(
        select(LogHead).where(LogHead.id == LOG_HEAD_ID).with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if head is None:
        raise LogTampered("the transparency log head row (loghead id 1) is missing")
    return head


def _case_tail(session: Session, case_id: str) -> tuple[int, bytes | None]:
    """(case_seq, leaf hash) of the case's latest leaf, or (-1, None) for a new case."""
    row = session.exec(
        select(LogLeaf.case_seq, LogLeaf.leaf_hash).where(LogLeaf.case_id == case_id)
        .order_by(col(LogLeaf.case_seq).desc()).limit(1)
    ).first()
    return (-1, None) if row is None else (row[0], bytes.fromhex(row[1]))


def append(session: Session, spec: RecordSpec) -> LogLeaf:
    """Append one record as the next leaf; the caller's transaction commits it."""
    head = locked_head(session)
    seq, prev = _case_tail(session, spec.case_id)
    record = case_record(
        case_id=spec.case_id, kind=spec.kind, case_seq=seq + 1, case_prev=prev,
        body=spec.body, file_sha256=spec.file_sha256,
    )
    data = canonical_bytes(record)
    digest = leaf_hash(data)
    log = MerkleLog.from_frontier(head.tree_size, [bytes.fromhex(h) for h in head.frontier])
    index = log.append(digest)
    leaf = LogLeaf(
        leaf_index=index, case_id=spec.case_id, case_seq=seq + 1, kind=spec.kind,
        subject_id=spec.subject_id, record=data.decode("utf-8"), leaf_hash=digest.hex(),
    )
    session.add(leaf)
    head.tree_size, head.root_hash = log.size, log.root().hex()
    head.frontier = [h.hex() for h in log.frontier]
    session.add(head)
    return leaf


def _subject(session: Session, table: type[Row], event: CaseEvent) -> Row:
    row = session.get(table, event.subject_id)
    if row is None:  # a publisher bug: never log an event about a row that is not there
        raise LookupError(f"{event.kind} names {table.__name__} #{event.subject_id}, not found")
    return row


def specs_for_event(session: Session, event: CaseEvent) -> list[RecordSpec]:
    """The records an event adds: its row in full (plus attached documents), or itself."""
    row_kind = ROW_EVENTS.get(event.kind)
    if row_kind is None or event.subject_id is None:
        return [event_spec(event)]
    if row_kind == EVIDENCE:
        item = _subject(session, EvidenceItem, event)
        specs = [evidence_spec(item)]
        for reference in document_references(item):
            document = session.get(Document, reference["sha256"])
            if document is None:
                raise LookupError(f"evidence #{item.id} refers to a document not stored")
            specs.append(document_spec(item, reference, document_facts(document)))
        return specs
    if row_kind == REFUSAL:
        return [refusal_spec(_subject(session, Refusal, event))]
    assert row_kind == DECISION
    return [decision_spec(_subject(session, Decision, event))]


def unlogged_drafts(session: Session, case_id: str) -> list[DraftVersion]:
    logged = select(LogLeaf.subject_id).where(LogLeaf.case_id == case_id, LogLeaf.kind == DRAFT)
    return list(session.exec(
        select(DraftVersion).where(DraftVersion.case_id == case_id,
                                   col(DraftVersion.id).not_in(logged))
        .order_by(col(DraftVersion.version))
    ))


def log_case_event(session: Session, event: CaseEvent) -> None:
    """Journal handler: log the event, then any draft version of its case not yet logged
    (the draft a case opens with follows its `case.opened` record)."""
    for spec in specs_for_event(session, event):
        append(session, spec)
    for draft in unlogged_drafts(session, event.case_id):
        append(session, draft_spec(draft))


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
    query = select(
        LogLeaf.leaf_index, LogLeaf.case_id, LogLeaf.case_seq, LogLeaf.kind,
        LogLeaf.subject_id, LogLeaf.record, LogLeaf.leaf_hash,
    ).order_by(col(LogLeaf.leaf_index))
    if case_id is not None:
        query = query.where(LogLeaf.case_id == case_id)
    if below is not None:
        query = query.where(col(LogLeaf.leaf_index) < below)
    for row in session.exec(query.execution_options(yield_per=5000)):
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
