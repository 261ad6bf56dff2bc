"""`dueprocess verify`: recompute the log from the database and check every signed head.

Stops at the first problem and names the item, checking in this order:

1. every leaf in log order: its index is the next one, its record hashes to its leaf
   hash and is canonical JSON, its envelope agrees with its columns, its case chain links
   (`case_seq`, `case_prev`) and was not closed before it (no leaf follows a
   `case_closed` record), and for evidence, documents, refusals, decisions and drafts
   the record rebuilt from the row *as it is now* equals the logged record;
2. the log head (size, root) matches the leaves;
3. every signed tree head in the database: signed by the log's key, its root is the root
   of that many leaves;
4. every published tree-head file and every head the caller obtained independently, in
   the same way (what catches a history that was rewritten and re-signed); then the
   tree-head tables agree with one another (`HeadStateInconsistent`: every checkpoint and
   proof has its head, every head since the first checkpoint its checkpoint), each head
   is consistent with the one before it (the kept proof verifies), and each checkpoint
   says what its head says;
5. every evidence, document, refusal, decision and draft row is covered by a leaf;
6. every covered table (comments, notices, confirmed subscriptions, assignments,
   declarations, panel notes, stages, credentials, people) equals its last logged
   snapshots, row for row (`row_audit`).

A log that passes is reported with its *unsigned tail*: the leaves after the newest
signed head, which only the database protects (an insider could rewrite them and pass
every check above), and the age of the oldest of them on the case database's own clock
(`logleaf.appended_at`). A tail older than DUEPROCESS_MAX_UNSIGNED_SECONDS gets a warning
line; it does not change the outcome.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError
from dueprocess.ledger.cosign import WitnessedCheckpoint
from dueprocess.ledger.heads import (
    KEY_SETTING,
    as_signed,
    check_head_state,
    log_public_key_pem,
    tree_head_rows,
)
from dueprocess.ledger.log import LogTampered, StoredLeaf, database_clock, stored_leaves
from dueprocess.ledger.records import (
    DECISION,
    DOCUMENT,
    DRAFT,
    EVIDENCE,
    REFUSAL,
    ROW_KINDS,
    DocumentFacts,
    RecordSpec,
    decision_spec,
    document_references,
    document_spec,
    draft_spec,
    evidence_spec,
    refusal_spec,
)
from dueprocess.ledger.row_audit import RowAudit
from dueprocess.ledger.rows import SYSTEM_SCOPE
from dueprocess.settings import get_transparency_settings
from ledger import (
    CanonicalizationError,
    MerkleLog,
    ProofError,
    SignatureError,
    SignedTreeHead,
    canonical_bytes,
    leaf_hash,
    load_public_key,
    read_envelope,
    verify_consistency,
    verify_tree_head,
)
from ledger.checkpoint import CheckpointError, parse_checkpoint, verify_note
from ledger.codec import b64decode, b64encode
from ledger.dossier_format import DossierError, loads_strict
from ledger.records import CASE_CLOSED, CLOCK, SIMULATED_TIME
from models.cases import DraftVersion
from models.clock import CaseClock
from models.decisions import Decision
from models.evidence import Document, EvidenceItem, Refusal
from models.ledger import ConsistencyProof, LogHead, LogLeaf, SignedCheckpoint

_leaf = LogLeaf.__table__.c  # type: ignore[attr-defined]
CHAIN_FIELDS = frozenset({"case_seq", "case_prev", "case_closed"})
FILE_FIELD = {EVIDENCE: "payload", DOCUMENT: "content", DRAFT: "text"}
_MISSING = object()


@dataclass(frozen=True)
class UnsignedTail:
    """The leaves after the newest signed tree head: protected only by the database until
    a head is signed over them (at most DUEPROCESS_MAX_UNSIGNED_SECONDS later)."""

    leaves: int  # how many
    signed_size: int  # the newest signed head's size (0: none signed yet)
    age_seconds: float | None  # of the oldest, on the case database's clock; None: unknown
    untimed: int  # leaves of the tail with no append time (before migration 0011)
    bound_seconds: int

    @property
    def over_bound(self) -> bool:
        return self.age_seconds is not None and self.age_seconds > self.bound_seconds

    def lines(self) -> list[str]:
        if not self.leaves:
            return [f"  unsigned tail: none (the newest signed head covers all "
                    f"{self.signed_size} leaves)" if self.signed_size else
                    "  unsigned tail: none (the log is empty)"]
        after = (f"after the newest signed head (size {self.signed_size})"
                 if self.signed_size else "and no tree head signed yet")
        leaves = f"{self.leaves} {'leaf' if self.leaves == 1 else 'leaves'}"
        if self.age_seconds is None:
            age = "the age of the oldest unknown"
        else:
            age = (f"the oldest appended {duration(self.age_seconds)} ago on the case "
                   "database's clock")
        lines = [f"  unsigned tail: {leaves} {after}, {age}"]
        last = self.signed_size + self.leaves - 1
        span = (f"leaf {last} is" if self.leaves == 1
                else f"leaves {self.signed_size}..{last} are")
        if self.over_bound:
            lines.append(
                f"WARNING: the unsigned tail is older than {TAIL_SETTING} "
                f"({self.bound_seconds} s): {span} covered by no signed tree head, only "
                "by the database. Is the sign-heads deployment running? `dueprocess "
                "publish-head` signs one now."
            )
        if self.untimed:
            lines.append(
                f"WARNING: {self.untimed} of the unsigned {leaves} have no append time "
                "(appended before migration 0011, or not through dueprocess's append path)."
            )
        return lines


TAIL_SETTING = "DUEPROCESS_MAX_UNSIGNED_SECONDS"


def duration(seconds: float) -> str:
    """A duration to the second, in its two largest units: `42 s`, `5 min 3 s`, `2 h 5 min`,
    `3 d 4 h`."""
    whole = max(0, int(seconds))
    units = [("d", 86400), ("h", 3600), ("min", 60), ("s", 1)]
    for (big, big_size), (small, small_size) in pairwise(units):
        if whole >= big_size:
            major, rest = divmod(whole, big_size)
            minor = rest // small_size
            return f"{major} {big}" + (f" {minor} {small}" if minor else "")
    return f"{whole} s"


def unsigned_tail(session: Session, size: int, signed_size: int) -> UnsignedTail:
    """The leaves after the newest signed head of *signed_size*, and the age of the oldest
    of them on the database's own clock (never a process's, never a simulated case's)."""
    bound = get_transparency_settings().max_unsigned_seconds
    leaves = max(size - signed_size, 0)
    if not leaves:
        return UnsignedTail(0, signed_size, None, 0, bound)
    oldest, timed, now = session.connection().execute(
        sa.select(sa.func.min(_leaf.appended_at), sa.func.count(_leaf.appended_at),
                  database_clock())
        .where(_leaf.leaf_index >= signed_size, _leaf.leaf_index < size)
    ).one()
    age = None if oldest is None else (now - oldest).total_seconds()
    return UnsignedTail(leaves, signed_size, age, leaves - timed, bound)


@dataclass(frozen=True)
class LogReport:
    tree_size: int
    root_hash: bytes
    cases: int
    rows_checked: int
    signed_heads: int
    published_heads: int
    known_heads: int
    covered_rows: int = 0
    tail: UnsignedTail | None = None

    def summary(self) -> str:
        def count(n: int, thing: str, things: str = "") -> str:
            return f"{n} {thing if n == 1 else things or thing + 's'}"

        lines = [
            f"OK: {count(self.tree_size, 'leaf', 'leaves')} over {count(self.cases, 'case')}, "
            f"root {b64encode(self.root_hash)}",
            f"  {count(self.rows_checked, 'evidence, document, refusal, decision and draft row')}"
            " match their logged records",
            f"  {count(self.covered_rows, 'other covered row')} (comments, notices, "
            "subscriptions, assignments, declarations, stages, credentials, people) match "
            "their logged snapshots",
            f"  {count(self.signed_heads, 'signed tree head')} verified, each consistent with "
            "the one before",
        ]
        if self.published_heads:
            lines.append(f"  {count(self.published_heads, 'published tree-head file')} "
                         "match the log")
        if self.known_heads:
            lines.append(f"  {count(self.known_heads, 'independently known tree head')} "
                         "match the log")
        if self.tail is not None:
            lines.extend(self.tail.lines())
        return "\n".join(lines)


@dataclass
class CaseRows:
    """The rows records are rebuilt from (all of them, or one case's)."""

    evidence: dict[int, EvidenceItem] = field(default_factory=dict)
    refusals: dict[int, Refusal] = field(default_factory=dict)
    decisions: dict[int, Decision] = field(default_factory=dict)
    drafts: dict[int, DraftVersion] = field(default_factory=dict)
    documents: dict[str, DocumentFacts] = field(default_factory=dict)
    simulated: set[str] = field(default_factory=set)  # cases on a simulated clock

    @classmethod
    def load(cls, session: Session, case_id: str | None = None) -> CaseRows:
        def rows(table: Any) -> Iterable[Any]:
            query = select(table).order_by(col(table.id))
            if case_id is not None:
                query = query.where(table.case_id == case_id)
            return session.exec(query)

        found = cls(
            evidence={r.id: r for r in rows(EvidenceItem)},
            refusals={r.id: r for r in rows(Refusal)},
            decisions={r.id: r for r in rows(Decision)},
            drafts={r.id: r for r in rows(DraftVersion)},
        )
        clocks = select(CaseClock.case_id)
        if case_id is not None:
            clocks = clocks.where(CaseClock.case_id == case_id)
        found.simulated = set(session.exec(clocks))
        documents = select(Document.sha256, Document.media_type, Document.size, Document.content)
        if case_id is not None:
            wanted = {r["sha256"] for item in found.evidence.values()
                      for r in document_references(item)}
            documents = documents.where(col(Document.sha256).in_(wanted))
        for sha, media_type, size, content in session.exec(
            documents.execution_options(yield_per=64)
        ):
            found.documents[sha] = DocumentFacts(media_type, size,
                                                 hashlib.sha256(content).hexdigest())
        return found

    def expected(self, kind: str, record: dict[str, Any]) -> tuple[str, RecordSpec | None]:
        """(label of the row, its record as rebuilt now, or None if the row is gone)."""
        case = record.get("case_id")
        if kind == EVIDENCE:
            item = self.evidence.get(record.get("evidence_id"))  # type: ignore[arg-type]
            label = f"evidence #{record.get('evidence_id')} of case {case}"
            return label, evidence_spec(item) if item else None
        if kind == DOCUMENT:
            sha = str(record.get("file_sha256"))
            owner = self.evidence.get(record.get("evidence_id"))  # type: ignore[arg-type]
            facts = self.documents.get(sha)
            label = f"document {sha[:16]}… of evidence #{record.get('evidence_id')} of case {case}"
            if owner is None or facts is None:
                return label, None
            reference = next(
                (r for r in document_references(owner) if r["sha256"] == sha), {}
            )
            return label, document_spec(owner, reference, facts)
        if kind == REFUSAL:
            refusal = self.refusals.get(record.get("refusal_id"))  # type: ignore[arg-type]
            label = f"refusal #{record.get('refusal_id')} of case {case}"
            event = str(record.get("event"))
            return label, refusal_spec(refusal, event) if refusal else None
        if kind == DECISION:
            decision = self.decisions.get(record.get("decision_id"))  # type: ignore[arg-type]
            label = f"decision #{record.get('decision_id')} of case {case}"
            return label, decision_spec(decision) if decision else None
        assert kind == DRAFT
        draft = self.drafts.get(record.get("draft_id"))  # type: ignore[arg-type]
        label = f"draft version {record.get('version')} (#{record.get('draft_id')}) of case {case}"
        return label, draft_spec(draft) if draft else None


def _canonical(value: Any) -> bytes:
    return canonical_bytes(value)


def _short(value: Any) -> str:
    if value is _MISSING:
        return "absent"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "…"


def row_difference(leaf_index: int, kind: str, record: dict[str, Any],
                   rows: CaseRows) -> str | None:
    """Why the row behind a logged record no longer matches it, or None if it does."""
    label, spec = rows.expected(kind, record)
    if spec is None:
        return f"{label} (leaf {leaf_index}) is missing from the database (deleted)"
    expected: dict[str, Any] = {**spec.body, "case_id": spec.case_id, "kind": spec.kind}
    if record.get("case_id") == SYSTEM_SCOPE and "about_case" in record:
        # Logged after its case closed: on the system chain, naming the case.
        expected.update(case_id=SYSTEM_SCOPE, about_case=spec.case_id)
    if spec.file_sha256 is not None:
        expected["file_sha256"] = spec.file_sha256
    if spec.case_id in rows.simulated:  # deleting a clock row cannot make a case look real
        expected[CLOCK] = SIMULATED_TIME
    for key in sorted(expected.keys() | (record.keys() - CHAIN_FIELDS)):
        now, then = expected.get(key, _MISSING), record.get(key, _MISSING)
        if now is not _MISSING and then is not _MISSING and _canonical(now) == _canonical(then):
            continue
        if key == "file_sha256":
            return (f"{label} (leaf {leaf_index}) was altered: its {FILE_FIELD[kind]} now has "
                    f"sha256 {str(now)[:16]}…, the log says {str(then)[:16]}…")
        return (f"{label} (leaf {leaf_index}) was altered: {key} is {_short(now)} in the "
                f"database but {_short(then)} in the log")
    return None


def parse_record(leaf: StoredLeaf) -> dict[str, Any]:
    """The leaf's record, checked against its hash, its canonical form and its columns."""
    where = f"leaf {leaf.leaf_index} ({leaf.kind}, case {leaf.case_id})"
    data = leaf.record.encode("utf-8")
    if leaf_hash(data).hex() != leaf.leaf_hash:
        raise LogTampered(f"{where}: its record was changed after it was logged "
                          "(it no longer hashes to its leaf hash)")
    try:
        record = loads_strict(data, what=where)
        if not isinstance(record, dict) or canonical_bytes(record) != data:
            raise LogTampered(f"{where}: its record is not a canonical JSON object")
        envelope = read_envelope(record)
    except (DossierError, CanonicalizationError, ValueError) as exc:
        raise LogTampered(f"{where}: unreadable record ({exc})") from None
    columns = (leaf.case_id, leaf.case_seq, leaf.kind)
    if (envelope.case_id, envelope.case_seq, envelope.kind) != columns:
        raise LogTampered(f"{where}: its columns (case, case_seq, kind) disagree with its "
                          f"record ({envelope.case_id}, {envelope.case_seq}, {envelope.kind})")
    return record


@dataclass
class _Chains:
    """The tail (case_seq, leaf hash, leaf index) of every case seen so far, and the leaf
    that closed each closed chain."""

    tails: dict[str, tuple[int, bytes, int]] = field(default_factory=dict)
    closed_at: dict[str, int] = field(default_factory=dict)

    def link(self, leaf: StoredLeaf, record: dict[str, Any], digest: bytes) -> None:
        seq, prev, index = self.tails.get(leaf.case_id, (-1, b"", -1))
        where = f"leaf {leaf.leaf_index} ({leaf.kind}, case {leaf.case_id})"
        if leaf.case_id in self.closed_at:
            raise LogTampered(
                f"{where}: follows the case's case-closed record (leaf "
                f"{self.closed_at[leaf.case_id]}), and nothing may: a closed case's chain "
                "ends there (dueprocess logs later records about it on the system chain), "
                "so this leaf was added around dueprocess, and a dossier ending on the "
                "case-closed record would leave it out"
            )
        if leaf.case_seq != seq + 1:
            raise LogTampered(f"{where}: has case_seq {leaf.case_seq}, expected {seq + 1}: "
                              "the case's records were removed, reordered or swapped here")
        logged_prev = record.get("case_prev")
        expected_prev = None if seq < 0 else b64encode(prev)
        if logged_prev != expected_prev:
            raise LogTampered(f"{where}: case_prev is not the hash of the case's previous "
                              f"record (leaf {index}); the case chain is broken")
        self.tails[leaf.case_id] = (leaf.case_seq, digest, leaf.leaf_index)
        if record.get(CASE_CLOSED) is True:
            self.closed_at[leaf.case_id] = leaf.leaf_index


@dataclass(frozen=True)
class HeadToCheck:
    label: str
    sth: SignedTreeHead


def published_head_files(directory: Path) -> list[HeadToCheck]:
    """Every tree-head file published under *directory* (a malformed one is a problem)."""
    paths = sorted((directory / "tree-heads").glob("*.json"))
    latest = directory / "latest-tree-head.json"
    if latest.exists():
        paths.append(latest)
    heads = []
    for path in paths:
        try:
            sth = SignedTreeHead.model_validate_json(path.read_bytes())
        except (OSError, ValueError) as exc:
            first = str(exc).splitlines()[0]
            raise LogTampered(
                f"published tree head {path}: not a valid tree head ({first})"
            ) from None
        heads.append(HeadToCheck(f"published tree head {path}", sth))
    return heads


def _check_head(label: str, sth: SignedTreeHead, pem: bytes, size: int,
                roots: dict[int, bytes]) -> None:
    where = f"{label} (size {sth.tree_size}, {sth.model_dump(mode='json')['timestamp']})"
    try:
        verify_tree_head(sth, pem)
    except SignatureError as exc:
        raise LogTampered(f"{where}: {exc} (forged?)") from None
    if sth.tree_size > size:
        raise LogTampered(f"{where} covers {sth.tree_size} leaves but the log has only {size}: "
                          "the log was truncated")
    if sth.tree_size and roots.get(sth.tree_size) != sth.root_hash_bytes:
        raise LogTampered(
            f"{where} does not match the log: leaves 0..{sth.tree_size - 1} no longer have "
            "its root, so history was rewritten after it was signed"
        )


def verify_log(*, known_heads: Sequence[SignedTreeHead] = (),
               trusted_public_key_pem: bytes | None = None,
               witnessed: Sequence[WitnessedCheckpoint] = ()) -> LogReport:
    """Check the whole log against the database; raise `LogTampered` naming the first
    item that differs. *known_heads* are heads obtained independently (e.g. a dossier's);
    *witnessed* the checkpoints witnesses cosigned (the log must hold each one)."""
    with session_scope(snapshot=True) as session:
        return _verify(session, known_heads, trusted_public_key_pem, witnessed)


def _verify(session: Session, known: Sequence[SignedTreeHead],
            trusted_pem: bytes | None,
            witnessed: Sequence[WitnessedCheckpoint] = ()) -> LogReport:
    heads = tree_head_rows(session)
    published = published_head_files(get_transparency_settings().publication_dir)
    others = [*published, *(HeadToCheck("known tree head", k) for k in known)]
    wanted = ({h.tree_size for h in heads} | {h.sth.tree_size for h in others}
              | {w.tree_size for w in witnessed})
    rows = CaseRows.load(session)
    covered: dict[str, set[Any]] = {kind: set() for kind in ROW_KINDS}

    # 1. Every leaf, in log order.
    log, chains, roots, row_audit = MerkleLog(), _Chains(), {}, RowAudit()
    for leaf in stored_leaves(session):
        if leaf.leaf_index != log.size:
            raise LogTampered(f"leaf {log.size} is missing: the log jumps to leaf "
                              f"{leaf.leaf_index} (a log row was deleted)")
        record = parse_record(leaf)
        digest = leaf_hash(leaf.record.encode("utf-8"))
        chains.link(leaf, record, digest)
        if leaf.kind in ROW_KINDS:
            problem = row_difference(leaf.leaf_index, leaf.kind, record, rows)
            if problem:
                raise LogTampered(problem)
            covered[leaf.kind].add(record.get("file_sha256") if leaf.kind == DOCUMENT
                                   else leaf.subject_id)
        else:
            row_audit.see(leaf.leaf_index, record)
        log.append(digest)
        if log.size in wanted:
            roots[log.size] = log.root()
    size, root = log.size, log.root()

    # 2. The log head.
    head = session.get(LogHead, 1)
    if head is None:
        raise LogTampered("the log head row is missing")
    if head.tree_size > size:
        raise LogTampered(f"the log was truncated: the log head counts {head.tree_size} leaves "
                          f"but only {size} remain (leaves {size}..{head.tree_size - 1} are gone)")
    if head.tree_size < size:
        raise LogTampered(f"leaves {head.tree_size}..{size - 1} were added outside the log's "
                          f"append path (the log head counts {head.tree_size})")
    if head.root_hash != root.hex():
        raise LogTampered("the log head's root differs from the root of the leaves")

    # 3 and 4. Signed tree heads: ours, published files, and independently known ones.
    pem = trusted_pem or log_public_key_pem()
    if pem is None and (heads or others):
        path = get_transparency_settings().signing_key_path
        raise DueProcessError(f"{KEY_SETTING}: no key at {path} to check the signed tree "
                              "heads with; pass the log's public key with --trusted-key")
    signed = [as_signed(row) for row in heads]
    for sth in signed:  # a forged head is named as forged, before what it lacks
        assert pem is not None
        _check_head("signed tree head", sth, pem, size, roots)
    for other in others:
        assert pem is not None
        _check_head(other.label, other.sth, pem, size, roots)
    check_head_state(session, heads)
    _check_witnessed(witnessed, size, roots, {row.tree_size for row in heads})
    proofs = {(p.old_size, p.new_size): p.proof
              for p in session.exec(select(ConsistencyProof))}
    for previous, sth in pairwise(signed):
        _check_consistency(previous, sth, proofs)
    if pem is not None:
        _check_checkpoints(session, pem, {row.tree_size: as_signed(row) for row in heads})

    # 5. Rows nobody logged.
    _check_covered(rows, covered)
    covered_rows = row_audit.compare(session)
    return LogReport(
        tree_size=size, root_hash=root,
        cases=len(chains.tails.keys() - {SYSTEM_SCOPE}),
        rows_checked=sum(map(len, covered.values())), signed_heads=len(heads),
        published_heads=len(published), known_heads=len(known), covered_rows=covered_rows,
        tail=unsigned_tail(session, size, heads[-1].tree_size if heads else 0),
    )


def _check_witnessed(witnessed: Sequence[WitnessedCheckpoint], size: int,
                     roots: dict[int, bytes], signed: set[int]) -> None:
    """The log holds every checkpoint a witness cosigned: its size, its root, and its
    signed head (an insider who deletes heads and checkpoints cannot delete these)."""
    for cp in witnessed:
        where = (f"witness {cp.witness} cosigned the checkpoint of size {cp.tree_size} "
                 f"(root {b64encode(cp.root_hash)}) at {utc_timestamp_of(cp.timestamp)}")
        if cp.tree_size > size:
            raise LogTampered(f"{where}, but the log has only {size} leaves: it was truncated "
                              "or rewritten")
        if roots.get(cp.tree_size) != cp.root_hash:
            raise LogTampered(f"{where}, but the log's first {cp.tree_size} leaves have "
                              "another root: the log was rewritten")
        if cp.tree_size not in signed:
            raise LogTampered(f"{where}, but publishedtreehead has no head of that size: "
                              "signed heads were deleted")


def utc_timestamp_of(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _check_checkpoints(session: Session, pem: bytes,
                       heads: dict[int, SignedTreeHead]) -> None:
    """Every stored checkpoint note is signed by the log's key and says what the signed
    tree head of its size says (what witnesses read must be what the log signed)."""
    key = load_public_key(pem)
    for row in session.exec(select(SignedCheckpoint).order_by(col(SignedCheckpoint.tree_size))):
        where = f"checkpoint of size {row.tree_size}"
        try:
            checkpoint = parse_checkpoint(verify_note(row.note, row.origin, key))
        except CheckpointError as exc:
            raise LogTampered(f"{where}: {exc} (forged or altered)") from None
        sth = heads.get(row.tree_size)
        if sth is None:
            raise LogTampered(f"{where}: there is no signed tree head of that size")
        if (checkpoint.origin, checkpoint.tree_size, checkpoint.root_hash) != (
            row.origin, sth.tree_size, sth.root_hash_bytes
        ):
            raise LogTampered(f"{where}: names another origin, size or root than the signed "
                              "tree head of its size")


def _check_consistency(old: SignedTreeHead, new: SignedTreeHead,
                       proofs: dict[tuple[int, int], list[str]]) -> None:
    where = f"signed tree head of size {new.tree_size}"
    texts = proofs.get((old.tree_size, new.tree_size))
    if texts is None:
        raise LogTampered(f"{where}: the consistency proof from the head of size "
                          f"{old.tree_size} is missing")
    try:
        proof = [b64decode(t, what="consistency proof", length=32) for t in texts]
        verify_consistency(old_size=old.tree_size, new_size=new.tree_size,
                           old_root=old.root_hash_bytes, new_root=new.root_hash_bytes,
                           proof=proof)
    except (ProofError, ValueError) as exc:
        raise LogTampered(f"{where} is not consistent with the head of size "
                          f"{old.tree_size}: {exc}") from None


def _check_covered(rows: CaseRows, covered: dict[str, set[Any]]) -> None:
    tables: list[tuple[str, str, dict[Any, Any]]] = [
        (EVIDENCE, "evidence", rows.evidence), (DOCUMENT, "document", rows.documents),
        (REFUSAL, "refusal", rows.refusals), (DECISION, "decision", rows.decisions),
        (DRAFT, "draft version", rows.drafts),
    ]
    for kind, name, table in tables:
        for key in sorted(set(table) - covered[kind]):
            row = table[key]
            case = f" of case {row.case_id}" if hasattr(row, "case_id") else ""
            label = f"{key[:16]}…" if kind == DOCUMENT else f"#{key}"
            raise LogTampered(f"{name} {label}{case} is not in the log "
                              "(written outside dueprocess?)")


def witness_summary(found: Sequence[WitnessedCheckpoint], problems: Sequence[str],
                    *, now: float | None = None) -> list[str]:
    """`dueprocess verify`'s lines about the witnesses' checkpoints (after they matched)."""
    settings = get_transparency_settings()
    now = time.time() if now is None else now
    lines = [f"  witness {cp.witness}: its newest cosigned checkpoint (size {cp.tree_size}, "
             f"cosigned {duration(now - cp.timestamp)} ago) is in the log, with its signed head"
             for cp in found]
    lines.extend(f"  WARNING: {problem}" for problem in problems)
    if not found:
        lines.append(
            "WARNING: no witness answered with a checkpoint of this log, so deleted heads "
            "cannot be detected (only with --known-head)" if settings.witness_entries else
            "  no witnesses registered (DUEPROCESS_WITNESSES): deleted heads are detected "
            "only with --known-head")
    elif (age := now - max(cp.timestamp for cp in found)) > settings.witness_max_age_seconds:
        lines.append(
            f"WARNING: the newest checkpoint a witness cosigned is {duration(age)} old, older "
            f"than DUEPROCESS_WITNESS_MAX_AGE_SECONDS ({settings.witness_max_age_seconds} s): "
            "records after it are vouched for by the log alone. Is the log asking its "
            "witnesses (see its log for their refusals)?")
    return lines
