"""Vote receipts: what a voter keeps to prove, offline, that their vote is in the log.

A receipt (docs/receipts.md) is one JSON file: the vote's logged record as it was logged,
its leaf hash and leaf index, an RFC 9162 inclusion proof and the signed tree head the
proof leads to. Checking one needs only the log's public key: the record is hashed again
(RFC 8785 bytes, RFC 9162 leaf hash), the proof is walked up to the head's root, and the
head's Ed25519 signature is checked. Every refusal names its rule and what failed.

This module reads no database; `programme.receipt_log` builds receipts from the log.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dueprocess.contact_secrets import keyed_digest
from ledger import (
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
