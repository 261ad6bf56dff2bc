"""Writing the offline decision dossier (verification lives in ``ledger.dossier_verify``).

A dossier is a directory anyone can check with no database or server: the records of
one case as logged (canonical JSON, one file per leaf), the documents those records
cover, an inclusion proof per record, the signed tree head, the log's public key and,
optionally, earlier signed heads with consistency proofs. See docs/dossier-format.md.

The writer checks everything it is given (it refuses to publish a dossier that would
not verify), builds the dossier in a temporary sibling directory, runs the verifier on
it, and only then moves it into place.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ledger.canonical import canonical_bytes
from ledger.codec import b64encode
from ledger.dossier_format import (
    CHECKPOINT_NAME,
    FILES_DIR,
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST_NAME,
    PUBLIC_KEY_NAME,
    TREE_HEAD_NAME,
    DossierError,
    EarlierHead,
    Manifest,
    ManifestFile,
    ManifestItem,
    check_relative_path,
    record_path,
)
from ledger.dossier_verify import (
    VerificationReport,
    VerifiedItem,
    check_checkpoint_note,
    verify_dossier,
)
from ledger.merkle import MerkleTree, leaf_hash, verify_consistency
from ledger.records import KIND_PATTERN, ChainEntry, check_case_chain, read_envelope
from ledger.signing import SignedTreeHead, load_public_key, public_key_pem, verify_tree_head

__all__ = [
    "DossierError",
    "DossierItem",
    "VerificationReport",
    "VerifiedItem",
    "verify_dossier",
    "write_dossier",
]


class DossierItem(BaseModel):
    """One logged record of the case, and the document it covers if any.

    ``record`` is the exact JSON object whose RFC 8785 bytes are leaf ``leaf_index``.
    ``file`` is a path relative to the dossier's ``files/`` directory (a key of the
    ``files`` mapping given to ``write_dossier``); ``file_sha256`` must equal the
    record's own ``file_sha256`` field, which is what binds the document to the log.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    leaf_index: Annotated[int, Field(strict=True, ge=0)]
    kind: Annotated[str, Field(pattern=KIND_PATTERN)]
    record: dict[str, Any]
    file: str | None = None
    file_sha256: Annotated[str | None, Field(pattern=r"^[0-9a-f]{64}$")] = None

    @model_validator(mode="after")
    def _consistent(self) -> DossierItem:
        envelope = read_envelope(self.record)
        if envelope.kind != self.kind:
            raise ValueError(f"kind {self.kind!r} differs from the record's {envelope.kind!r}")
        if (self.file is None) != (self.file_sha256 is None):
            raise ValueError("give both file and file_sha256, or neither")
        if self.file_sha256 != envelope.file_sha256:
            raise ValueError("file_sha256 must equal the record's file_sha256 field")
        return self


def write_dossier(
    directory: Path,
    *,
    case_id: str,
    items: Sequence[DossierItem],
    files: Mapping[str, bytes],
    leaf_hashes_upto: Sequence[bytes],
    sth: SignedTreeHead,
    public_key_pem: bytes,
    earlier_heads: Sequence[tuple[SignedTreeHead, list[bytes]]] = (),
    checkpoint: str | None = None,
) -> VerificationReport:
    """Write the dossier of *case_id* to *directory* (which must not exist or be empty).

    *items* are all records of the case in the log up to *sth* (their case chain must
    start at ``case_seq`` 0 and be unbroken); *leaf_hashes_upto* are all leaf hashes of
    the log up to ``sth.tree_size``; *earlier_heads* are older signed heads with
    consistency proofs to *sth*; *checkpoint* is *sth* as the log's signed checkpoint
    note, with the cosignatures the log holds. Raises ``ValueError`` if any input is
    inconsistent.
    Returns the report of verifying the written dossier.
    """
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ValueError(f"{directory} exists and is not an empty directory")

    verify_tree_head(sth, public_key_pem)
    key_pem = public_key_pem_normalised(public_key_pem)
    tree = _tree_for(sth, leaf_hashes_upto)
    ordered = sorted(items, key=lambda i: i.leaf_index)
    leaf_data = _check_items(case_id, ordered, tree)
    _check_files(ordered, files)
    earlier = _check_earlier(earlier_heads, sth, public_key_pem)
    if checkpoint is not None:
        check_checkpoint_note(checkpoint, sth, load_public_key(public_key_pem))

    manifest = Manifest(
        format=FORMAT_NAME,
        format_version=FORMAT_VERSION,
        case_id=case_id,
        items=[_manifest_item(item, tree, files) for item in ordered],
        earlier_tree_heads=earlier,
        checkpoint=None if checkpoint is None else CHECKPOINT_NAME,
    )

    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        for item, data in zip(ordered, leaf_data, strict=True):
            _write(staging / record_path(item.leaf_index), data)
        for name, content in files.items():
            _write(staging / FILES_DIR / name, content)
        _write(staging / PUBLIC_KEY_NAME, key_pem)
        _write(staging / TREE_HEAD_NAME, (sth.model_dump_json(indent=2) + "\n").encode())
        if checkpoint is not None:
            _write(staging / CHECKPOINT_NAME, checkpoint.encode())
        manifest_json = json.dumps(manifest.model_dump(mode="json"), indent=2, ensure_ascii=False)
        _write(staging / MANIFEST_NAME, (manifest_json + "\n").encode("utf-8"))
        # Self-check before publishing: a dossier that does not verify must not appear.
        report = verify_dossier(staging, trusted_public_key_pem=key_pem)
        os.chmod(staging, 0o755)  # mkdtemp made it private; a dossier is for publishing
        if directory.exists():
            directory.rmdir()
        os.replace(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return report


def public_key_pem_normalised(pem: bytes) -> bytes:
    """Re-encode a public key PEM so the dossier holds one canonical spelling."""
    return public_key_pem(load_public_key(pem))


def _tree_for(sth: SignedTreeHead, leaf_hashes: Sequence[bytes]) -> MerkleTree:
    if len(leaf_hashes) != sth.tree_size:
        raise ValueError(
            f"got {len(leaf_hashes)} leaf hashes but the tree head is for size {sth.tree_size}"
        )
    tree = MerkleTree(leaf_hashes)
    if tree.root != sth.root_hash_bytes:
        raise ValueError("the leaf hashes do not produce the signed root")
    return tree


def _check_items(case_id: str, items: Sequence[DossierItem], tree: MerkleTree) -> list[bytes]:
    entries: list[ChainEntry] = []
    data_list: list[bytes] = []
    seen: set[int] = set()
    for item in items:
        where = f"item at leaf {item.leaf_index} ({item.kind})"
        if item.leaf_index in seen:
            raise ValueError(f"{where}: leaf index listed twice")
        seen.add(item.leaf_index)
        if item.leaf_index >= tree.size:
            raise ValueError(f"{where}: beyond the signed tree size {tree.size}")
        data = canonical_bytes(item.record)
        leaf = leaf_hash(data)
        if leaf != tree.leaf(item.leaf_index):
            raise ValueError(f"{where}: record does not match the logged leaf")
        entries.append(ChainEntry(item.leaf_index, leaf, read_envelope(item.record)))
        data_list.append(data)
    check_case_chain(case_id, entries)
    return data_list


def _check_files(items: Sequence[DossierItem], files: Mapping[str, bytes]) -> None:
    folded: dict[str, str] = {}
    for name in files:
        check_relative_path(f"{FILES_DIR}/{name}", under=FILES_DIR)
        # Two names differing only in case collide on macOS and Windows file systems.
        clash = folded.setdefault(name.casefold(), name)
        if clash != name:
            raise ValueError(f"file names {clash!r} and {name!r} differ only in case")
    covered: set[str] = set()
    for item in items:
        if item.file is None:
            continue
        if item.file not in files:
            raise ValueError(f"item at leaf {item.leaf_index}: file {item.file!r} not given")
        if hashlib.sha256(files[item.file]).hexdigest() != item.file_sha256:
            raise ValueError(f"item at leaf {item.leaf_index}: {item.file!r} sha256 differs")
        covered.add(item.file)
    uncovered = sorted(set(files) - covered)
    if uncovered:
        # A document no logged record covers would look verified to a reader.
        raise ValueError(f"files not covered by any item's record: {uncovered}")


def _check_earlier(
    heads: Sequence[tuple[SignedTreeHead, list[bytes]]],
    sth: SignedTreeHead,
    public_key_pem: bytes,
) -> list[EarlierHead]:
    result: list[EarlierHead] = []
    for head, proof in sorted(heads, key=lambda hp: hp[0].tree_size):
        verify_tree_head(head, public_key_pem)
        verify_consistency(
            old_size=head.tree_size,
            new_size=sth.tree_size,
            old_root=head.root_hash_bytes,
            new_root=sth.root_hash_bytes,
            proof=proof,
        )
        result.append(EarlierHead(tree_head=head, consistency_proof=[b64encode(p) for p in proof]))
    return result


def _manifest_item(item: DossierItem, tree: MerkleTree, files: Mapping[str, bytes]) -> ManifestItem:
    file = None
    if item.file is not None and item.file_sha256 is not None:
        file = ManifestFile(
            path=f"{FILES_DIR}/{item.file}",
            sha256=item.file_sha256,
            size=len(files[item.file]),
        )
    return ManifestItem(
        leaf_index=item.leaf_index,
        kind=item.kind,
        record=record_path(item.leaf_index),
        leaf_hash=b64encode(tree.leaf(item.leaf_index)),
        inclusion_proof=[b64encode(p) for p in tree.inclusion_proof(item.leaf_index)],
        file=file,
    )


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
