"""The case envelope every logged record carries, chaining a case's records together.

The Merkle log proves that a record was logged; it cannot by itself show that a dossier
lists *all* records of a case. So each record names its case and its position in the
case, and carries the leaf hash of the case's previous record::

    {"case_id": "...", "kind": "evidence", "case_seq": 3, "case_prev": "<base64>", ...}

A dossier whose records form an unbroken chain from ``case_seq`` 0 cannot have had a
record removed from the middle; the record that ends a case sets ``"case_closed": true``,
so a dossier ending on it cannot have been cut short either. A record that covers a
document carries the document's hex SHA-256 as ``file_sha256``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.canonical import MAX_SAFE_INTEGER
from ledger.codec import b64decode, b64encode
from ledger.merkle import HASH_SIZE

__all__ = [
    "CLOCK",
    "KIND_PATTERN",
    "RESERVED_FIELDS",
    "SIMULATED_TIME",
    "ChainEntry",
    "Envelope",
    "case_record",
    "check_case_chain",
    "read_envelope",
]

CASE_ID = "case_id"
KIND = "kind"
CASE_SEQ = "case_seq"
CASE_PREV = "case_prev"
CASE_CLOSED = "case_closed"
FILE_SHA256 = "file_sha256"
RESERVED_FIELDS = frozenset({CASE_ID, KIND, CASE_SEQ, CASE_PREV, CASE_CLOSED, FILE_SHA256})

# Every record of a case run on a simulated clock (a demo or a test) carries
# CLOCK: SIMULATED_TIME, so no single record of it can pass for real time.
CLOCK = "clock"
SIMULATED_TIME = "simulated time"

# Kinds become part of file names and reports; keep them boring.
KIND_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"
_KIND_RE = re.compile(KIND_PATTERN)
_SHA256_HEX_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Envelope:
    """The envelope fields of one record, validated."""

    case_id: str
    kind: str
    case_seq: int
    case_prev: bytes | None
    case_closed: bool
    file_sha256: str | None


@dataclass(frozen=True)
class ChainEntry:
    """One logged record of a case: where it is in the log and what it says."""

    leaf_index: int
    leaf_hash: bytes
    envelope: Envelope


def case_record(
    *,
    case_id: str,
    kind: str,
    case_seq: int,
    case_prev: bytes | None,
    body: Mapping[str, Any] | None = None,
    file_sha256: str | None = None,
    closes_case: bool = False,
) -> dict[str, Any]:
    """Build a record: *body* plus the envelope fields.

    *case_prev* is the leaf hash of the case's previous record (None for ``case_seq``
    0). Set *closes_case* on the last record a case will ever get.
    """
    body = dict(body or {})
    clash = RESERVED_FIELDS.intersection(body)
    if clash:
        raise ValueError(f"record body uses reserved envelope field(s): {sorted(clash)}")
    record: dict[str, Any] = {
        **body,
        CASE_ID: case_id,
        KIND: kind,
        CASE_SEQ: case_seq,
        CASE_PREV: None if case_prev is None else b64encode(case_prev),
    }
    if file_sha256 is not None:
        record[FILE_SHA256] = file_sha256
    if closes_case:
        record[CASE_CLOSED] = True
    read_envelope(record)  # fail at construction, not at publication
    return record


def read_envelope(record: Mapping[str, Any]) -> Envelope:
    """Validate and return the envelope fields of *record* (``ValueError`` if bad)."""
    case_id = record.get(CASE_ID)
    if not isinstance(case_id, str) or not case_id:
        raise ValueError(f"record needs a non-empty string {CASE_ID!r}")
    kind = record.get(KIND)
    if not isinstance(kind, str) or not _KIND_RE.match(kind):
        raise ValueError(f"record needs a {KIND!r} matching {KIND_PATTERN}")
    seq = record.get(CASE_SEQ)
    if type(seq) is not int or not 0 <= seq <= MAX_SAFE_INTEGER:
        raise ValueError(f"record needs a non-negative integer {CASE_SEQ!r}")
    if CASE_PREV not in record:
        raise ValueError(f"record needs {CASE_PREV!r} (null for the first record of a case)")
    prev_text = record[CASE_PREV]
    prev = None if prev_text is None else b64decode(prev_text, what=CASE_PREV, length=HASH_SIZE)
    closed = record.get(CASE_CLOSED, False)
    if type(closed) is not bool:
        raise ValueError(f"{CASE_CLOSED!r} must be true or false")
    digest = record.get(FILE_SHA256)
    if digest is not None and (not isinstance(digest, str) or not _SHA256_HEX_RE.match(digest)):
        raise ValueError(f"{FILE_SHA256!r} must be 64 lowercase hex digits")
    return Envelope(
        case_id=case_id,
        kind=kind,
        case_seq=seq,
        case_prev=prev,
        case_closed=closed,
        file_sha256=digest,
    )


def describe(entry: ChainEntry) -> str:
    e = entry.envelope
    return f"leaf {entry.leaf_index} ({e.kind}, case_seq {e.case_seq})"


def check_case_chain(case_id: str, entries: Sequence[ChainEntry]) -> None:
    """Check *entries* (in log order) are the unbroken record chain of *case_id*.

    Raises ``ValueError`` naming the first entry that breaks the chain.
    """
    if not entries:
        raise ValueError("a dossier needs at least one record")
    previous: ChainEntry | None = None
    for position, entry in enumerate(entries):
        env = entry.envelope
        where = describe(entry)
        if env.case_id != case_id:
            raise ValueError(f"{where}: belongs to case {env.case_id!r}, not {case_id!r}")
        if previous is not None and entry.leaf_index <= previous.leaf_index:
            raise ValueError(f"{where}: records must be listed in increasing leaf order")
        if env.case_seq != position:
            missing = "a record is missing before it" if env.case_seq > position else "out of order"
            raise ValueError(f"{where}: expected case_seq {position}; {missing}")
        if previous is None:
            if env.case_prev is not None:
                raise ValueError(f"{where}: the first record of a case must have case_prev null")
        else:
            if env.case_prev != previous.leaf_hash:
                raise ValueError(
                    f"{where}: case_prev is not the leaf hash of {describe(previous)}; "
                    "the chain is broken"
                )
            if previous.envelope.case_closed:
                raise ValueError(f"{where}: follows the record that closed the case")
        previous = entry
