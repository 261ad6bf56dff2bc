"""Test helpers: an in-memory stand-in for the database-backed log."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import (
    DossierItem,
    MerkleTree,
    SignedTreeHead,
    canonical_bytes,
    case_record,
    leaf_hash,
    sign_tree_head,
)

T0 = datetime(2025, 3, 14, 9, 26, 53, 589000, tzinfo=UTC)


@dataclass
class MemoryLog:
    """What the database does, minus the database: append records, keep leaf hashes."""

    leaves: list[bytes] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    heads: dict[str, tuple[int, bytes]] = field(default_factory=dict)

    def add(
        self,
        case_id: str,
        kind: str,
        *,
        document: bytes | None = None,
        closes: bool = False,
        **body: Any,
    ) -> int:
        seq, prev = self.heads.get(case_id, (-1, None))
        record = case_record(
            case_id=case_id,
            kind=kind,
            case_seq=seq + 1,
            case_prev=prev,
            body=body,
            file_sha256=None if document is None else hashlib.sha256(document).hexdigest(),
            closes_case=closes,
        )
        h = leaf_hash(canonical_bytes(record))
        self.leaves.append(h)
        self.records.append(record)
        self.heads[case_id] = (seq + 1, h)
        return len(self.leaves) - 1

    def sign(self, key: Ed25519PrivateKey, size: int | None = None) -> SignedTreeHead:
        size = len(self.leaves) if size is None else size
        root = MerkleTree(self.leaves[:size]).root
        return sign_tree_head(key, tree_size=size, root_hash=root, timestamp=T0)

    def items(
        self, case_id: str, documents: dict[int, str], upto: int | None = None
    ) -> list[DossierItem]:
        """DossierItems for every record of *case_id* among the first *upto* leaves."""
        upto = len(self.leaves) if upto is None else upto
        result = []
        for index, record in enumerate(self.records[:upto]):
            if record["case_id"] != case_id:
                continue
            name = documents.get(index)
            result.append(
                DossierItem(
                    leaf_index=index,
                    kind=record["kind"],
                    record=record,
                    file=name,
                    file_sha256=record.get("file_sha256") if name else None,
                )
            )
        return result
