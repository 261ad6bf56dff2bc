"""The transparency log in the case database (RFC 6962 Merkle log of case records).

Every case event is one `LogLeaf`: its record's exact RFC 8785 bytes, its leaf hash, its
place in its case's chain (`case_seq`; `case_prev` is the leaf hash of the case's
previous leaf and lives inside the record) and when the database appended it. `LogHead`
is the one row writers lock to append: the size, root and compact frontier of the log.
Signed tree heads and the consistency proofs between successive heads are kept as
published.

Migration 0002 installs triggers that refuse UPDATE and DELETE on every table here (the
log head may only move forward) and on the evidence tables the records cover; migration
0012's refuses a leaf on a chain that already ends with its case-closed record.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Text, UniqueConstraint, event, inspect
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from models.base import JSONColumn, UTCDateTime, timestamp_field
from models.follow_up import EvaluationDue, EvaluationRequest, FollowUp
from models.implementation import (
    ImplementationItem,
    ItemComment,
    Milestone,
    ProgressUpdate,
    SupervisionRecord,
)
from models.notices import Comment, Notice, Subscriber
from models.people import Assignment, Credential, InterestDeclaration, PanelNote, Person
from models.programme import Ballot, ProgrammeList, Proposal, ProposalMark, Vote
from models.stages import Stage

LOG_HEAD_ID = 1  # the single row of `loghead`


class LogLeaf(SQLModel, table=True):
    """One leaf of the log. Never updated or deleted."""

    __table_args__ = (UniqueConstraint("case_id", "case_seq"),)

    leaf_index: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    case_id: str = Field(max_length=64)
    case_seq: int = Field(ge=0)
    kind: str = Field(max_length=64, description="Record kind: evidence, refusal, notice, …")
    subject_id: int | None = Field(
        default=None, description="Id of the evidence, refusal, decision or draft row covered"
    )
    record: str = Field(
        sa_column=Column(Text, nullable=False), description="RFC 8785 canonical record JSON"
    )
    leaf_hash: str = Field(max_length=64, description="hex SHA-256(0x00 ‖ record bytes)")
    appended_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True),
        description="The case database's clock when the leaf was appended (migration 0011; "
        "none before it): what the unsigned tail's age is measured by. Not in the record.",
    )


class LogHead(SQLModel, table=True):
    """Where the next leaf goes: locked FOR UPDATE by every append, so indices stay dense."""

    id: int = Field(default=LOG_HEAD_ID, primary_key=True)
    tree_size: int = Field(ge=0)
    root_hash: str = Field(max_length=64, description="hex Merkle tree hash of all leaves")
    frontier: list[str] = Field(
        sa_column=Column(JSONColumn, nullable=False),
        description="hex roots of the perfect subtrees covering the log, largest first",
    )


class PublishedTreeHead(SQLModel, table=True):
    """A signed tree head as published (fields verbatim from the STH JSON)."""

    tree_size: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    root_hash: str = Field(max_length=44, description="base64 root hash")
    timestamp: str = Field(max_length=24, description="YYYY-MM-DDTHH:MM:SS.mmmZ as signed")
    key_id: str = Field(max_length=64)
    signature: str = Field(max_length=88, description="base64 Ed25519 signature")
    published_at: datetime = timestamp_field()


class ConsistencyProof(SQLModel, table=True):
    """RFC 9162 consistency proof between two successive published tree heads."""

    old_size: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    new_size: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    proof: list[str] = Field(
        sa_column=Column(JSONColumn, nullable=False), description="base64 hashes, RFC order"
    )


class SignedCheckpoint(SQLModel, table=True):
    """The C2SP signed-note checkpoint of a signed tree head (same size and root), what
    witnesses fetch and cosign. Never updated or deleted (migration 0005)."""

    tree_size: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    origin: str = Field(max_length=200, description="The log's origin line (its name)")
    note: str = Field(sa_column=Column(Text, nullable=False), description="signed note text")



class WitnessCosignature(SQLModel, table=True):
    """A witness's C2SP cosignature/v1 over one of the log's checkpoints, verified with
    the witness's registered key before it was stored. Append-only (migration 0013): a
    good cosignature is never replaced."""

    tree_size: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    witness: str = Field(primary_key=True, max_length=200, description="The witness's name")
    key_id: str = Field(primary_key=True, max_length=8, description="hex cosignature key id")
    timestamp: int = Field(sa_column=Column(BigInteger, nullable=False),
                           description="Unix seconds the witness signed at")
    line: str = Field(sa_column=Column(Text, nullable=False),
                      description="The note signature line, without its newline")
    received_at: datetime = timestamp_field()

# Tables whose rows the log snapshots (dueprocess.ledger.rows says how). Every
# insert or change of one is noted here, at flush, whoever wrote it: a writer that
# announces no event still gets its row logged when the transaction commits.
COVERED_MODELS: dict[type[SQLModel], str] = {
    Comment: "comment", Notice: "notice", Subscriber: "subscriber", Assignment: "assignment",
    InterestDeclaration: "interestdeclaration", PanelNote: "panelnote", Stage: "stage",
    Credential: "credential", Person: "person", Proposal: "proposal",
    ProposalMark: "proposalmark", Ballot: "ballot", Vote: "vote",
    ImplementationItem: "implementationitem", Milestone: "milestone",
    ProgressUpdate: "progressupdate", SupervisionRecord: "supervisionrecord",
    ProgrammeList: "programmelist", ItemComment: "itemcomment", FollowUp: "followup",
    EvaluationRequest: "evaluationrequest", EvaluationDue: "evaluationdue",
}
# Working columns the snapshots leave out: changing only these logs nothing.
UNLOGGED_COLUMNS: dict[type[SQLModel], frozenset[str]] = {
    Notice: frozenset({"fanned_out_at", "settled_at"}),
    Subscriber: frozenset({"url_ciphertext", "privacy_url", "confirm_token_sha256"}),
}
TOUCHED_ROWS = "dueprocess.ledger.touched"  # session.info: {(table, id)}
PENDING_RECORDS = "dueprocess.ledger.pending"  # session.info: records of published events
CommitHook = Callable[[Any], None]  # called with the committing session
_append_at_commit: list[CommitHook] = []  # set once by the composition root


class RowCaptureNotWired(RuntimeError):
    """A covered row was written in a process whose composition root never ran."""


def append_at_commit_with(hook: CommitHook) -> None:
    """Have `hook(session)` append the noted rows and published records to the log when a
    transaction commits (the transparency log's `append_at_commit`; registered once)."""
    _append_at_commit[:] = [hook]


def commit_hook() -> CommitHook | None:
    """The hook registered in this process, to hand to a spawned worker process."""
    return _append_at_commit[0] if _append_at_commit else None


def _commit_hook() -> CommitHook:
    if not _append_at_commit:
        raise RowCaptureNotWired(
            "a row the transparency log covers was written before the log was wired: the "
            "entry point must call dueprocess.composition.journal.wire() first")
    return _append_at_commit[0]


@event.listens_for(Session, "after_flush")
def _note_touched_rows(session: Session, _context: Any) -> None:
    touched: set[tuple[str, int]] | None = None
    for obj in (*session.new, *session.dirty):
        table = COVERED_MODELS.get(type(obj))
        if table is None or (obj in session.dirty and not _logged_column_changed(obj)):
            continue
        if touched is None:
            _commit_hook()  # refuse now, not at commit, when nothing would log the row
            touched = session.info.setdefault(TOUCHED_ROWS, set())
        touched.add((table, obj.id))


def note_written(session: Session, model: type[SQLModel], row_id: int) -> None:
    """Note a covered row written without the ORM (a bulk or upsert statement), so that
    it is logged when the transaction commits, like a row the flush noticed."""
    _commit_hook()
    session.info.setdefault(TOUCHED_ROWS, set()).add((COVERED_MODELS[model], row_id))


def _logged_column_changed(obj: SQLModel) -> bool:
    skip = UNLOGGED_COLUMNS.get(type(obj), frozenset())
    state = inspect(obj)
    return any(attr.history.has_changes() for attr in state.attrs if attr.key not in skip)


@event.listens_for(Session, "before_commit")
def _log_touched_rows(session: Session) -> None:
    """Commit flushes only after the before-commit hooks ran; flush first, so the rows
    written last are noted, and have the log append them and the records of the events
    published in the transaction. The one before-commit hook of the log, registered at
    import: one registered while SQLAlchemy runs the hooks would change them ("deque
    mutated during iteration")."""
    if session.in_nested_transaction():
        return
    if session.new or session.dirty or session.deleted:
        session.flush()
    if session.info.get(TOUCHED_ROWS) or session.info.get(PENDING_RECORDS):
        _commit_hook()(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_touched_rows(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(TOUCHED_ROWS, None)
