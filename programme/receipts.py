"""Vote receipts: what a voter keeps to prove, offline, that their vote is in the log.

A receipt (docs/receipts.md) is one JSON file: the vote's logged record as it was logged,
its leaf hash and leaf index, an RFC 9162 inclusion proof and the signed tree head the
proof leads to. Checking one needs only the log's public key: the record is hashed again
(RFC 8785 bytes, RFC 9162 leaf hash), the proof is walked up to the head's root, and the
head's Ed25519 signature is checked. Every refusal names its rule and what failed.

Checking reads no database. Issuing does: a vote is a leaf as soon as its transaction
commits; its receipt exists once a signed tree head covers that leaf, at most
DUEPROCESS_MAX_UNSIGNED_SECONDS later (the sign-heads deployment), and before then
`ReceiptPending` says when to come back. The Merkle tree of the newest head is built once
per head (its leaf hashes read in one query) and kept, so every receipt after the first
costs one indexed look-up and O(log n) list reads; a tree whose root is not the signed one
is refused (`LogTampered`), never proven against.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlmodel import Session, col, select

from dueprocess.contact_secrets import keyed_digest
from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError, NotFound
from dueprocess.ledger import get_transparency_settings
from dueprocess.ledger.heads import as_signed, signed_tree
from ledger import (
    MerkleTree,
    ProofError,
    SignatureError,
    SignedTreeHead,
    SigningKeyError,
    canonical_bytes,
    leaf_hash,
    load_public_key,
    verify_inclusion,
    verify_tree_head,
)
from ledger.canonical import CanonicalizationError
from ledger.codec import b64decode, b64encode
from ledger.merkle import HASH_SIZE
from models.ledger import LogLeaf, PublishedTreeHead
from models.programme import ballot_chain

RECEIPT_FORMAT = "dueprocess-vote-receipt"
RECEIPT_VERSION = 1
VOTE_EVENT = "vote.cast"  # the event each vote is logged as (programme.vote_intake)
VOTE_LEAF_KIND = "vote"  # its leaf's kind (`generic_kind("vote.cast")`)
RECEIPT_ID_PATTERN = r"^R[1-9][0-9]{0,11}-[1-9][0-9]{0,11}-[0-9a-f]{16}$"
_RECEIPT_ID_RE = re.compile(RECEIPT_ID_PATTERN)
MAX_RECEIPT_BYTES = 256 * 1024  # a receipt of a log of 2^60 leaves is under 8 KiB

# Why a receipt is refused, one rule per thing that can be wrong with it.
FORMAT, KEY, HEAD, RECORD, PROOF = (
    "RECEIPT-FORMAT", "RECEIPT-KEY", "RECEIPT-HEAD", "RECEIPT-RECORD", "RECEIPT-PROOF")


class ReceiptRefused(ValueError):
    """A receipt that does not check out: `rule` says which part, the message what."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule
        self.reason = message


def receipt_id(*, ballot_id: int, vote_id: int) -> str:
    """The id a voter is given when their vote is stored: it names the vote, and its keyed
    tag means only the voter (told it) can fetch the receipt, not anyone counting ids."""
    return f"R{ballot_id}-{vote_id}-{_tag(ballot_id, vote_id)}"


def parse_receipt_id(text: str) -> tuple[int, int] | None:
    """(ballot id, vote id) of a receipt id this log issued, or None."""
    text = text.strip()
    if not _RECEIPT_ID_RE.fullmatch(text):
        return None
    ballot, vote, tag = text[1:].split("-")
    if _tag(int(ballot), int(vote)) != tag:
        return None
    return int(ballot), int(vote)


def _tag(ballot_id: int, vote_id: int) -> str:
    return keyed_digest("vote-receipt", f"{ballot_id}:{vote_id}")[:16]


class VoteReceipt(BaseModel):
    """A vote receipt, version 1 (docs/receipts.md); the JSON form is the file format."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["dueprocess-vote-receipt"]
    version: Literal[1]
    receipt_id: Annotated[str, Field(pattern=RECEIPT_ID_PATTERN)]
    ballot_id: Annotated[int, Field(strict=True, ge=1)]
    vote_id: Annotated[int, Field(strict=True, ge=1)]
    leaf_index: Annotated[int, Field(strict=True, ge=0)]
    leaf_hash: str
    record: dict[str, Any]
    inclusion_proof: list[str]
    tree_head: SignedTreeHead

    @field_validator("leaf_hash")
    @classmethod
    def _leaf_hash_shape(cls, value: str) -> str:
        b64decode(value, what="leaf_hash", length=HASH_SIZE)
        return value

    @field_validator("inclusion_proof")
    @classmethod
    def _proof_shape(cls, value: list[str]) -> list[str]:
        for i, item in enumerate(value):
            b64decode(item, what=f"inclusion_proof[{i}]", length=HASH_SIZE)
        return value

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"


def make_receipt(*, ballot_id: int, vote_id: int, leaf_index: int, record: str,
                 proof: list[bytes], head: SignedTreeHead) -> VoteReceipt:
    """A receipt for the vote logged as `record` (its exact logged text) at `leaf_index`."""
    data = record.encode("utf-8")
    return VoteReceipt(
        format=RECEIPT_FORMAT, version=RECEIPT_VERSION,
        receipt_id=receipt_id(ballot_id=ballot_id, vote_id=vote_id), ballot_id=ballot_id,
        vote_id=vote_id, leaf_index=leaf_index, leaf_hash=b64encode(leaf_hash(data)),
        record=json.loads(data), inclusion_proof=[b64encode(p) for p in proof],
        tree_head=head)


@dataclass(frozen=True)
class CheckedVote:
    """What a receipt that checks out proves: this vote is leaf `leaf_index` of the log
    whose head of `tree_size` leaves the key signed."""

    receipt: VoteReceipt
    choices: list[int]
    pseudonym: str
    cast_at: str

    def summary(self) -> str:
        head = self.receipt.tree_head
        signed = head.model_dump(mode="json")["timestamp"]
        return (f"receipt {self.receipt.receipt_id}: verified. Vote #{self.receipt.vote_id} on "
                f"ballot #{self.receipt.ballot_id} for "
                f"{', '.join(f'#{c}' for c in self.choices)} (cast {self.cast_at}, pseudonym "
                f"{self.pseudonym[:16]}) is leaf {self.receipt.leaf_index} of the log; the "
                f"tree head of {head.tree_size} leaves signed at {signed} by key "
                f"{head.key_id[:16]} covers it.")


def read_receipt(data: bytes | str) -> VoteReceipt:
    """Parse a receipt file; `ReceiptRefused` (RECEIPT-FORMAT) names the field at fault."""
    if len(data) > MAX_RECEIPT_BYTES:
        raise ReceiptRefused(FORMAT, f"the receipt is over {MAX_RECEIPT_BYTES // 1024} KiB; "
                             "a receipt is a few KiB of JSON")
    try:
        parsed = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReceiptRefused(FORMAT, f"not JSON ({exc})") from None
    if not isinstance(parsed, dict):
        raise ReceiptRefused(FORMAT, "a receipt is a JSON object")
    if parsed.get("version") not in (None, RECEIPT_VERSION) and "format" in parsed:
        raise ReceiptRefused(FORMAT, f"version: {parsed.get('version')!r}; this verifier "
                             f"reads version {RECEIPT_VERSION}")
    try:
        return VoteReceipt.model_validate(parsed)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "receipt"
        raise ReceiptRefused(FORMAT, f"{where}: {first['msg']}") from None


def verify_receipt(data: bytes | str, *, trusted_public_key_pem: bytes) -> CheckedVote:
    """Check a receipt offline against the log's public key; `ReceiptRefused` says which
    part failed: the file (FORMAT), the key (KEY), the head's signature (HEAD), the record
    or its leaf hash (RECORD), the inclusion proof (PROOF)."""
    receipt = read_receipt(data)
    try:
        load_public_key(trusted_public_key_pem)
    except SigningKeyError as exc:
        raise ReceiptRefused(KEY, f"trusted key: {exc}") from None
    try:
        verify_tree_head(receipt.tree_head, trusted_public_key_pem)
    except SignatureError as exc:
        raise ReceiptRefused(HEAD, str(exc)) from None
    record = receipt.record
    try:
        digest = leaf_hash(canonical_bytes(record))
    except CanonicalizationError as exc:
        raise ReceiptRefused(RECORD, f"record: {exc}") from None
    if b64encode(digest) != receipt.leaf_hash:
        raise ReceiptRefused(RECORD, "the record does not hash to leaf_hash: the record or "
                             "the leaf hash was altered")
    vote = _vote_of(receipt)
    try:
        verify_inclusion(leaf_hash=digest, index=receipt.leaf_index,
                         tree_size=receipt.tree_head.tree_size,
                         proof=[b64decode(p) for p in receipt.inclusion_proof],
                         root=receipt.tree_head.root_hash_bytes)
    except ProofError as exc:
        raise ReceiptRefused(PROOF, f"{exc}: the leaf index or the proof was altered, or "
                             "the leaf is not in that tree") from None
    return CheckedVote(receipt=receipt, choices=list(vote["choices"]),
                       pseudonym=str(vote["pseudonym"]), cast_at=str(vote["cast_at"]))


def _vote_of(receipt: VoteReceipt) -> dict[str, Any]:
    """The vote's values in the record, which must be the `vote.cast` record of the
    receipt's vote on its ballot's chain."""
    record = receipt.record
    expected = {"case_id": ballot_chain(receipt.ballot_id), "kind": VOTE_LEAF_KIND,
                "event": VOTE_EVENT, "subject_id": receipt.vote_id}
    for name, value in expected.items():
        if record.get(name) != value:
            raise ReceiptRefused(RECORD, f"record.{name} is {record.get(name)!r}, but a "
                                 f"receipt for vote #{receipt.vote_id} needs {value!r}")
    rows = [row for row in record.get("rows") or [] if isinstance(row, dict)
            and row.get("table") == "vote" and row.get("id") == receipt.vote_id]
    values = rows[0].get("values") if rows else None
    if not isinstance(values, dict) or values.get("ballot_id") != receipt.ballot_id or \
            not isinstance(values.get("choices"), list):
        raise ReceiptRefused(RECORD, f"record.rows has no vote #{receipt.vote_id} on ballot "
                             f"#{receipt.ballot_id}")
    return values


class ReceiptPending(DueProcessError):
    """The vote is logged, but no signed tree head covers it yet."""

    http_status = 202

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


_leaf = LogLeaf.__table__.c  # type: ignore[attr-defined]
# The literal kind lets PostgreSQL use the partial index of migration programme0007.
_VOTE_LEAF = (sa.select(_leaf.leaf_index, _leaf.record)
              .where(_leaf.case_id == sa.bindparam("case_id"),
                     _leaf.subject_id == sa.bindparam("vote_id"),
                     sa.text(f"logleaf.kind = '{VOTE_LEAF_KIND}'"))
              .order_by(_leaf.leaf_index).limit(1))
_cache_lock = threading.Lock()
_cached: tuple[int, str, MerkleTree] | None = None  # (size, root) of the newest head


def fetch_receipt(text: str) -> VoteReceipt:
    """The receipt of the vote `text` names (its receipt id). `NotFound` for an id this log
    did not issue, `ReceiptPending` until a signed head covers the vote."""
    parsed = parse_receipt_id(text)
    if parsed is None:
        raise NotFound(f"receipt: {text.strip()[:40]!r} is not a receipt id of this log")
    ballot_id, vote_id = parsed
    with session_scope() as session:
        leaf = session.connection().execute(
            _VOTE_LEAF, {"case_id": ballot_chain(ballot_id), "vote_id": vote_id}).first()
        if leaf is None:
            raise NotFound(f"receipt: no vote #{vote_id} is logged on ballot #{ballot_id}")
        row = session.exec(select(PublishedTreeHead)
                           .order_by(col(PublishedTreeHead.tree_size).desc()).limit(1)).first()
        if row is None or row.tree_size <= leaf.leaf_index:
            wait = get_transparency_settings().max_unsigned_seconds
            raise ReceiptPending(
                f"receipt: vote #{vote_id} is leaf {leaf.leaf_index} of the log; no signed "
                f"tree head covers it yet. Heads are signed at most {wait} s after a vote: "
                "fetch the receipt again then", retry_after=wait)
        tree = _tree(session, row)
        proof = tree.inclusion_proof(leaf.leaf_index)
    return make_receipt(ballot_id=ballot_id, vote_id=vote_id, leaf_index=leaf.leaf_index,
                        record=leaf.record, proof=proof, head=as_signed(row))


def _tree(session: Session, head: PublishedTreeHead) -> MerkleTree:
    """The signed tree of `head`, built once per head (every receipt of it needs it)."""
    global _cached
    with _cache_lock:
        if _cached is None or _cached[:2] != (head.tree_size, head.root_hash):
            _cached = (head.tree_size, head.root_hash, signed_tree(session, head))
        return _cached[2]
