"""Tamper-evident Merkle log primitives and offline decision dossiers.

Database-free: RFC 8785 canonical records, RFC 6962/9162 Merkle trees and proofs,
Ed25519 signed tree heads, and the dossier writer/verifier. See docs/dossier-format.md.
This half needs nothing but itself, so a third party can verify a dossier with it alone;
`dueprocess.ledger` is the other half, which writes the case database's records into it.
"""

from ledger.canonical import CanonicalizationError, canonical_bytes, utc_timestamp
from ledger.dossier import DossierItem, write_dossier
from ledger.dossier_format import DossierError
from ledger.dossier_verify import VerificationReport, VerifiedItem, verify_dossier
from ledger.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    MerkleLog,
    MerkleTree,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    leaf_hashes,
    node_hash,
    root_from_leaf_data,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from ledger.records import Envelope, case_record, read_envelope
from ledger.signing import (
    SignatureError,
    SignedTreeHead,
    SigningKeyError,
    key_id,
    load_or_create_signing_key,
    load_public_key,
    public_key_pem,
    sign_tree_head,
    tree_head_message,
    verify_tree_head,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CanonicalizationError",
    "DossierError",
    "DossierItem",
    "Envelope",
    "MerkleLog",
    "MerkleTree",
    "ProofError",
    "SignatureError",
    "SignedTreeHead",
    "SigningKeyError",
    "VerificationReport",
    "VerifiedItem",
    "canonical_bytes",
    "case_record",
    "consistency_proof",
    "inclusion_proof",
    "key_id",
    "leaf_hash",
    "leaf_hashes",
    "load_or_create_signing_key",
    "load_public_key",
    "node_hash",
    "public_key_pem",
    "read_envelope",
    "root_from_leaf_data",
    "root_from_leaf_hashes",
    "sign_tree_head",
    "tree_head_message",
    "utc_timestamp",
    "verify_consistency",
    "verify_dossier",
    "verify_inclusion",
    "verify_tree_head",
    "write_dossier",
]
