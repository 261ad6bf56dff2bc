"""Offline verification of a decision dossier: no database, no server, no network.

Checks, in order: manifest shape; public key (against a caller-pinned key if given);
the tree head signature; earlier heads and their consistency proofs; caller-known heads;
then every item — record bytes canonical, record hash = listed leaf hash, envelope
matches, inclusion proof reaches the signed root, covered file matches the digest inside
the record — then the case chain, and finally that no unlisted file hides in the dossier.
The first failure raises ``DossierError`` naming the item or file and the reason.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from ledger.canonical import CanonicalizationError, canonical_bytes, utc_timestamp
from ledger.checkpoint import CheckpointError, parse_checkpoint, verify_note
from ledger.codec import b64decode
from ledger.cosignature import CosignatureError, WitnessKey, signature_lines, verify_cosignature
from ledger.dossier_format import (
    CHECKPOINT_NAME,
    FILES_DIR,
    FORMAT_VERSIONS,
    MANIFEST_NAME,
    PUBLIC_KEY_NAME,
    RECORDS_DIR,
    TREE_HEAD_NAME,
    DossierError,
    Manifest,
    ManifestItem,
    check_relative_path,
    describe_validation_error,
    loads_strict,
)
from ledger.merkle import HASH_SIZE, ProofError, leaf_hash, verify_consistency, verify_inclusion
from ledger.records import CLOCK, SIMULATED_TIME, ChainEntry, check_case_chain, read_envelope
from ledger.signing import (
    SignatureError,
    SignedTreeHead,
    SigningKeyError,
    load_public_key,
    verify_tree_head,
)

__all__ = ["VerificationReport", "VerifiedItem", "check_checkpoint_note", "verify_dossier"]


@dataclass(frozen=True)
class VerifiedItem:
    leaf_index: int
    kind: str
    case_seq: int
    record_path: str
    file_path: str | None
    file_sha256: str | None


@dataclass(frozen=True)
class VerificationReport:
    """What a successful verification established."""

    case_id: str
    tree_size: int
    root_hash: str
    timestamp: datetime
    key_id: str
    key_pinned: bool  # True only if the caller supplied the expected public key
    items: tuple[VerifiedItem, ...]
    earlier_tree_sizes: tuple[int, ...]
    case_closed: bool
    simulated_time: bool = False  # the case ran on a simulated clock (a demo or a test)
    cosigned_by: tuple[str, ...] = ()  # witnesses whose cosignature verified
    witness_problems: tuple[str, ...] = ()  # given witnesses whose cosignature did not

    def summary(self) -> str:
        lines = [
            f"dossier for case {self.case_id}: OK",
            f"  tree head: size {self.tree_size}, root {self.root_hash}, "
            f"signed {utc_timestamp(self.timestamp)}",
            f"  signing key: {self.key_id}"
            + ("" if self.key_pinned else " (NOT pinned: pass the expected key to trust it)"),
        ]
        if self.cosigned_by:
            lines.append(f"  cosigned by {len(self.cosigned_by)} witness"
                         f"{'es' if len(self.cosigned_by) > 1 else ''}: "
                         f"{', '.join(self.cosigned_by)} (C2SP cosignature/v1 verified)")
        lines.extend(f"  not counted: {problem}" for problem in self.witness_problems)
        if self.earlier_tree_sizes:
            sizes = ", ".join(map(str, self.earlier_tree_sizes))
            lines.append(f"  consistent with earlier tree heads of size {sizes}")
        for item in self.items:
            doc = f" + {item.file_path}" if item.file_path else ""
            lines.append(
                f"  [{item.case_seq}] leaf {item.leaf_index} {item.kind}: {item.record_path}{doc}"
            )
        if self.simulated_time:
            lines.append("  SIMULATED TIME: this case ran on a simulated clock (a demo or a "
                         "test); its dates are not real")
        lines.append(
            "  case closed: the last record closes the case and no earlier one is missing"
            if self.case_closed
            else "  case NOT closed: later records of this case may exist outside this dossier"
        )
        return "\n".join(lines)


def verify_dossier(
    directory: Path,
    *,
    trusted_public_key_pem: bytes | None = None,
    known_tree_heads: Sequence[SignedTreeHead] = (),
    require_closed: bool = False,
    witness_keys: Sequence[WitnessKey] = (),
    min_witnesses: int = 0,
) -> VerificationReport:
    """Verify the dossier in *directory*; raise ``DossierError`` on the first problem.

    *trusted_public_key_pem* pins the log's key (otherwise the dossier's own
    ``public-key.pem`` is used, which proves integrity but not origin: a forger can
    replace both key and signature). *known_tree_heads* are heads the caller obtained
    independently; the dossier must prove consistency with each. *require_closed*
    demands that the last record closes the case, proving nothing was cut off the end.
    *witness_keys* are witnesses' keys the caller trusts; at least *min_witnesses* of
    them must have cosigned the dossier's checkpoint (C2SP cosignature/v1).
    """
    if min_witnesses > len(witness_keys):
        raise DossierError(f"--min-witnesses {min_witnesses}: must not exceed the number of "
                           f"--witness-key given ({len(witness_keys)})")
    root = Path(directory)
    if not root.is_dir():
        raise DossierError(f"{root}: not a directory")
    root = root.resolve()

    manifest = _load_manifest(root)
    public_pem, pinned = _load_key(root, trusted_public_key_pem)
    sth = _load_tree_head(root, public_pem)
    sth_root = sth.root_hash_bytes
    earlier_sizes = _check_earlier_heads(manifest, sth, public_pem)
    _check_known_heads(manifest, sth, known_tree_heads)
    cosigned_by, witness_problems = _check_witnesses(root, manifest, sth, public_pem,
                                                     witness_keys, min_witnesses)

    entries: list[ChainEntry] = []
    verified: list[VerifiedItem] = []
    referenced: set[str] = set()
    previous_index = -1
    for number, item in enumerate(manifest.items):
        where = f"item #{number} (leaf {item.leaf_index}, {item.kind})"
        if item.leaf_index <= previous_index:
            raise DossierError(f"{where}: items must be listed in strictly increasing leaf order")
        previous_index = item.leaf_index
        if item.record in referenced:
            raise DossierError(f"{where}: record {item.record} is listed twice")
        entry, result = _check_item(root, item, where, sth, sth_root)
        # Several records may cover one document, so only record paths must be unique.
        referenced.update(p for p in (result.record_path, result.file_path) if p)
        entries.append(entry)
        verified.append(result)

    try:
        check_case_chain(manifest.case_id, entries)
    except ValueError as exc:
        raise DossierError(f"case chain: {exc}") from None
    closed = entries[-1].envelope.case_closed
    if require_closed and not closed:
        raise DossierError(
            f"case chain: last listed record ({_describe_entry(entries[-1])}) does not close "
            "the case; records may have been cut off the end"
        )
    _check_no_unlisted(root, referenced)

    return VerificationReport(
        case_id=manifest.case_id,
        tree_size=sth.tree_size,
        root_hash=sth.root_hash,
        timestamp=sth.timestamp,
        key_id=sth.key_id,
        key_pinned=pinned,
        items=tuple(verified),
        earlier_tree_sizes=earlier_sizes,
        case_closed=closed,
        simulated_time=any(_marks_simulated_time(root / v.record_path) for v in verified),
        cosigned_by=cosigned_by,
        witness_problems=witness_problems,
    )


def check_checkpoint_note(note: str, sth: SignedTreeHead, key: Ed25519PublicKey) -> str:
    """The checkpoint body of *note* if the log's *key* signed it (under the origin its
    first line names) and it states *sth*'s size and root; `ValueError` otherwise."""
    origin = note.split("\n", 1)[0]
    try:
        body = verify_note(note, origin, key)
        checkpoint = parse_checkpoint(body)
    except CheckpointError as exc:
        raise ValueError(f"{CHECKPOINT_NAME}: {exc}") from None
    if (checkpoint.tree_size, checkpoint.root_hash) != (sth.tree_size, sth.root_hash_bytes):
        raise ValueError(f"{CHECKPOINT_NAME}: states size {checkpoint.tree_size} and another "
                         f"root than {TREE_HEAD_NAME} (size {sth.tree_size})")
    return body


def _check_witnesses(root: Path, manifest: Manifest, sth: SignedTreeHead, public_pem: bytes,
                     keys: Sequence[WitnessKey], minimum: int
                     ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(witnesses whose cosignature verified, why each other given witness's did not).
    The checkpoint itself is always checked when the dossier has one."""
    if manifest.checkpoint is None:
        if minimum:
            raise DossierError(
                f"witnesses: the dossier carries no checkpoint, so no cosignature (format "
                f"version {manifest.format_version}, or exported before the log had "
                f"witnesses); --min-witnesses {minimum} cannot be met")
        return (), ()
    raw = _read(root, manifest.checkpoint, CHECKPOINT_NAME)
    try:
        note = raw.decode("utf-8")
        body = check_checkpoint_note(note, sth, load_public_key(public_pem))
        lines = signature_lines(note)
    except (UnicodeDecodeError, ValueError) as exc:
        raise DossierError(f"{CHECKPOINT_NAME}: {exc}") from None
    good: list[str] = []
    problems: list[str] = []
    for key in keys:
        mine = [line for line in lines if line.split(" ", 2)[1:2] == [key.name]]
        if not mine:
            problems.append(f"witness {key.name}: no cosignature by it in {CHECKPOINT_NAME}")
            continue
        reasons = []
        for line in mine:
            try:
                verify_cosignature(body, line, key)
            except CosignatureError as exc:
                reasons.append(str(exc))
                continue
            good.append(key.name)
            break
        else:
            problems.append(reasons[0])
    if len(good) < minimum:
        raise DossierError(
            f"witnesses: {len(good)} of the {minimum} required cosignatures verify "
            f"({CHECKPOINT_NAME}): " + "; ".join(problems))
    return tuple(good), tuple(problems)


SIMULATED_EVENTS = ("clock.advanced",)


def _marks_simulated_time(path: Path) -> bool:
    """A verified record saying the case runs on simulated time: its label (CLOCK, on
    every record of such a case), its opening record (body.clock) or a clock advance."""
    try:
        record = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    body = record.get("body") if isinstance(record, dict) else None
    inner = body.get("body") if isinstance(body, dict) else None
    for layer in (record, body, inner):
        if isinstance(layer, dict) and (layer.get(CLOCK) == SIMULATED_TIME
                                        or layer.get("event") in SIMULATED_EVENTS):
            return True
    return False


def _describe_entry(entry: ChainEntry) -> str:
    return f"leaf {entry.leaf_index}, {entry.envelope.kind}"


def _read(root: Path, relative: str, what: str) -> bytes:
    path = root / relative
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: symlink loop (Python < 3.13)
        raise DossierError(f"{what}: cannot resolve {relative} ({exc})") from None
    # A symlink pointing outside the dossier would let its content come from anywhere.
    if not resolved.is_relative_to(root):
        raise DossierError(f"{what}: {relative} points outside the dossier")
    try:
        if not resolved.is_file():
            raise DossierError(f"{what}: {relative} is missing")
        return resolved.read_bytes()
    except OSError as exc:
        raise DossierError(f"{what}: cannot read {relative} ({exc.strerror})") from None


def _load_manifest(root: Path) -> Manifest:
    data = loads_strict(_read(root, MANIFEST_NAME, MANIFEST_NAME), what=MANIFEST_NAME)
    if isinstance(data, dict) and data.get("format_version") not in (None, *FORMAT_VERSIONS):
        raise DossierError(
            f"{MANIFEST_NAME}: unsupported format_version {data.get('format_version')!r}"
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        raise DossierError(f"{MANIFEST_NAME}: {describe_validation_error(exc)}") from None


def _raw_public_key(pem: bytes, what: str) -> bytes:
    try:
        key = load_public_key(pem)
    except SigningKeyError as exc:
        raise DossierError(f"{what}: {exc}") from None
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _load_key(root: Path, trusted: bytes | None) -> tuple[bytes, bool]:
    pem = _read(root, PUBLIC_KEY_NAME, PUBLIC_KEY_NAME)
    raw = _raw_public_key(pem, PUBLIC_KEY_NAME)
    if trusted is None:
        return pem, False
    if _raw_public_key(trusted, "trusted public key") != raw:
        raise DossierError(
            f"{PUBLIC_KEY_NAME}: is not the trusted public key; the dossier was signed "
            "by someone else"
        )
    return trusted, True


def _load_tree_head(root: Path, public_pem: bytes) -> SignedTreeHead:
    data = loads_strict(_read(root, TREE_HEAD_NAME, TREE_HEAD_NAME), what=TREE_HEAD_NAME)
    try:
        sth = SignedTreeHead.model_validate(data)
    except ValidationError as exc:
        raise DossierError(f"{TREE_HEAD_NAME}: {describe_validation_error(exc)}") from None
    try:
        verify_tree_head(sth, public_pem)
    except SignatureError as exc:
        raise DossierError(f"{TREE_HEAD_NAME}: {exc}") from None
    return sth


def _proof(texts: Sequence[str], what: str) -> list[bytes]:
    try:
        return [
            b64decode(t, what=f"{what} element {i}", length=HASH_SIZE) for i, t in enumerate(texts)
        ]
    except ValueError as exc:
        raise DossierError(str(exc)) from None


def _check_earlier_heads(
    manifest: Manifest, sth: SignedTreeHead, public_pem: bytes
) -> tuple[int, ...]:
    sizes: list[int] = []
    for number, earlier in enumerate(manifest.earlier_tree_heads):
        head = earlier.tree_head
        where = f"{MANIFEST_NAME}: earlier tree head #{number} (size {head.tree_size})"
        try:
            verify_tree_head(head, public_pem)
        except SignatureError as exc:
            raise DossierError(f"{where}: {exc}") from None
        proof = _proof(earlier.consistency_proof, f"{where}: consistency proof")
        try:
            verify_consistency(
                old_size=head.tree_size,
                new_size=sth.tree_size,
                old_root=head.root_hash_bytes,
                new_root=sth.root_hash_bytes,
                proof=proof,
            )
        except ProofError as exc:
            raise DossierError(
                f"{where}: the signed log is not an extension of this earlier head "
                f"(history rewritten?): {exc}"
            ) from None
        sizes.append(head.tree_size)
    return tuple(sizes)


def _check_known_heads(
    manifest: Manifest, sth: SignedTreeHead, known: Sequence[SignedTreeHead]
) -> None:
    proven = {e.tree_head.tree_size: e.tree_head.root_hash for e in manifest.earlier_tree_heads}
    proven[sth.tree_size] = sth.root_hash
    for head in known:
        where = f"known tree head of size {head.tree_size}"
        if head.key_id != sth.key_id:
            raise DossierError(f"{where}: signed by a different key than the dossier")
        if head.tree_size not in proven:
            problem = (
                "is newer than the dossier's tree head"
                if head.tree_size > sth.tree_size
                else "has no consistency proof in the dossier"
            )
            raise DossierError(f"{where}: {problem}; cannot show the log was not rewritten")
        if proven[head.tree_size] != head.root_hash:
            raise DossierError(
                f"{where}: the dossier commits to a different root for that size "
                "(the log was forked or rewritten)"
            )


def _check_item(
    root: Path, item: ManifestItem, where: str, sth: SignedTreeHead, sth_root: bytes
) -> tuple[ChainEntry, VerifiedItem]:
    def fail(reason: str) -> DossierError:
        return DossierError(f"{where}: {reason}")

    if item.leaf_index >= sth.tree_size:
        raise fail(f"leaf index is beyond the signed tree size {sth.tree_size}")
    try:
        check_relative_path(item.record, under=RECORDS_DIR)
    except ValueError as exc:
        raise fail(str(exc)) from None
    raw = _read(root, item.record, where)
    record: Any = loads_strict(raw, what=f"{where}: {item.record}")
    if not isinstance(record, dict):
        raise fail(f"{item.record} must hold a JSON object")
    try:
        canonical = canonical_bytes(record)
    except CanonicalizationError as exc:
        raise fail(f"{item.record}: {exc}") from None
    if canonical != raw:
        raise fail(f"{item.record} is not in RFC 8785 canonical form (edited by hand?)")
    leaf = leaf_hash(raw)
    try:
        listed = b64decode(item.leaf_hash, what="leaf_hash", length=HASH_SIZE)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if leaf != listed:
        raise fail(f"{item.record} was altered: its leaf hash differs from the manifest's")
    try:
        envelope = read_envelope(record)
    except ValueError as exc:
        raise fail(f"{item.record}: {exc}") from None
    if envelope.kind != item.kind:
        raise fail(f"manifest says kind {item.kind!r} but the record says {envelope.kind!r}")
    proof = _proof(item.inclusion_proof, f"{where}: inclusion proof")
    try:
        verify_inclusion(
            leaf_hash=leaf,
            index=item.leaf_index,
            tree_size=sth.tree_size,
            proof=proof,
            root=sth_root,
        )
    except ProofError as exc:
        raise fail(f"not proven to be in the signed log: {exc}") from None

    file_path: str | None = None
    if item.file is None:
        if envelope.file_sha256 is not None:
            raise fail("the record covers a document (file_sha256) but no file is listed")
    else:
        file_path = item.file.path
        if envelope.file_sha256 is None:
            raise fail(f"lists {file_path} but the record does not cover any document")
        try:
            check_relative_path(file_path, under=FILES_DIR)
        except ValueError as exc:
            raise fail(str(exc)) from None
        content = _read(root, file_path, where)
        actual = hashlib.sha256(content).hexdigest()
        if actual != envelope.file_sha256:
            raise fail(
                f"{file_path} was replaced or altered: its sha256 is {actual}, "
                f"the logged record says {envelope.file_sha256}"
            )
        if item.file.sha256 != actual or item.file.size != len(content):
            raise fail(f"manifest digest or size for {file_path} does not match the file")

    entry = ChainEntry(leaf_index=item.leaf_index, leaf_hash=leaf, envelope=envelope)
    result = VerifiedItem(
        leaf_index=item.leaf_index,
        kind=envelope.kind,
        case_seq=envelope.case_seq,
        record_path=item.record,
        file_path=file_path,
        file_sha256=envelope.file_sha256,
    )
    return entry, result


def _check_no_unlisted(root: Path, referenced: set[str]) -> None:
    # Anything extra under records/ or files/ would look covered by the dossier to a
    # reader, so it is an error rather than noise.
    for top in (RECORDS_DIR, FILES_DIR):
        base = root / top
        if not base.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for name in sorted(filenames):
                rel = (Path(dirpath) / name).relative_to(root).as_posix()
                if rel not in referenced:
                    raise DossierError(f"{rel} is not listed in {MANIFEST_NAME}")
            for name in dirnames:
                # os.walk does not descend into symlinked directories; judge them whole.
                rel = (Path(dirpath) / name).relative_to(root).as_posix()
                if (Path(dirpath) / name).is_symlink() and not any(
                    p.startswith(rel + "/") for p in referenced
                ):
                    raise DossierError(f"{rel} is not listed in {MANIFEST_NAME}")
