"""A vote's receipt, from the log: its leaf, and a proof against the newest signed head.

A vote is a leaf as soon as its transaction commits; its receipt exists once a signed tree
head covers that leaf, at most DUEPROCESS_MAX_UNSIGNED_SECONDS later (the sign-heads
deployment). Before then `ReceiptPending` says when to come back. The Merkle tree of the
newest head is built once per head (its leaf hashes read in one query) and kept, so every
receipt after the first costs one indexed look-up and O(log n) list reads; a tree whose
root is not the signed one is refused (`LogTampered`), never proven against.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa
from sqlmodel import Session, col, select

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError, NotFound
from dueprocess.ledger import LogTampered, get_transparency_settings
from dueprocess.ledger.heads import as_signed
from ledger import MerkleTree
from models.ledger import LogLeaf, PublishedTreeHead
from models.programme import ballot_chain
from programme.receipts import VOTE_LEAF_KIND, VoteReceipt, make_receipt, parse_receipt_id


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
    global _cached
    with _cache_lock:
        if _cached is not None and _cached[:2] == (head.tree_size, head.root_hash):
            return _cached[2]
        hashes = [bytes.fromhex(h) for h in session.connection().execute(
            sa.select(_leaf.leaf_hash).where(_leaf.leaf_index < head.tree_size)
            .order_by(_leaf.leaf_index)).scalars()]
        tree = MerkleTree(hashes)
        if tree.size != head.tree_size or tree.root != as_signed(head).root_hash_bytes:
            raise LogTampered(f"the stored leaves no longer give the signed root of size "
                              f"{head.tree_size}; run `dueprocess verify`")
        _cached = (head.tree_size, head.root_hash, tree)
        return tree
