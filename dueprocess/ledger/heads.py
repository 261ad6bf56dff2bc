"""Signed tree heads: sign the current log, keep consistency proofs, publish them as files.

A head is only signed for a log that extends the previously published head (checked
with an RFC 9162 consistency proof, which is kept), so a rewritten history is never
signed over. Published files (under `DUEPROCESS_TREE_HEAD_DIR`)::

    public-key.pem                          the log's Ed25519 public key
    latest-tree-head.json                   the newest signed tree head
    tree-heads/<size, 12 digits>.json       every signed tree head
    consistency/<old>-<new>.json            proof between successive heads
    checkpoint                              the newest head as a C2SP signed note, with
                                            every witness cosignature the log holds

Every head is also signed as a C2SP `tlog-checkpoint` note (kept in `signedcheckpoint`),
the form witnesses read. Tree-head tables that disagree (a checkpoint or proof whose head
was deleted, a head whose checkpoint was) are named, and nothing is signed over them
(`HeadStateInconsistent`). Heads are signed by `publish-head`, by the scheduled sign-heads
deployment whenever the log grew, and right after a transaction decides or closes a case.

The signing key is kept apart from the database: a key inside the data directory, or one
that group or others may read, is refused (unless DUEPROCESS_ALLOW_EXPOSED_SIGNING_KEY is
set, for tests and demos).

The portal reads heads through `latest_tree_head()`, `published_tree_heads()`,
`head_history()` and `consistency_between()`.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError
from dueprocess.ledger.cosign import ask_witnesses, cosigned_note
from dueprocess.ledger.log import (
    SIGN_AFTER_COMMIT,
    LogTampered,
    checked_leaf_hashes,
    locked_head,
)
from dueprocess.settings import get_settings, get_transparency_settings
from ledger import (
    MerkleTree,
    ProofError,
    SignedTreeHead,
    SigningKeyError,
    key_id,
    load_or_create_signing_key,
    load_public_key,
    public_key_pem,
    sign_tree_head,
    verify_consistency,
)
from ledger.checkpoint import checkpoint_text, log_vkey, sign_note
from ledger.codec import b64encode
from ledger.cosignature import add_signature_lines
from models.base import utcnow
from models.ledger import (
    ConsistencyProof,
    LogLeaf,
    PublishedTreeHead,
    SignedCheckpoint,
    WitnessCosignature,
)

Announce = Callable[[str], None]
KEY_SETTING = "DUEPROCESS_LOG_SIGNING_KEY"
ALLOW_SETTING = "DUEPROCESS_ALLOW_EXPOSED_SIGNING_KEY"
logger = logging.getLogger(__name__)


def key_storage_problem(path: Path) -> str | None:
    """Why the key at *path* is not kept safely apart, or None if it is (or the check is
    switched off for a test or demo)."""
    settings = get_transparency_settings()
    if settings.allow_exposed_signing_key:
        return None
    data_dir = get_settings().data_dir.resolve()
    if path == data_dir or path.is_relative_to(data_dir):
        return (f"{path} is inside the data directory {data_dir}: whoever copies the "
                "database gets the key that vouches for it. Keep it elsewhere (set "
                f"{KEY_SETTING}), or set {ALLOW_SETTING}=true for a test or demo")
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None  # generated below with mode 0600
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return (f"{path} can be read by group or others (mode {stat.filemode(mode)}): "
                f"run chmod 600 {path}, or set {ALLOW_SETTING}=true for a test or demo")
    return None


def announce_to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


def signing_key(announce: Announce = announce_to_stderr) -> Ed25519PrivateKey:
    """The log's signing key, generated (and its path announced) on first use."""
    settings = get_transparency_settings()
    path = settings.signing_key_path
    problem = key_storage_problem(path)
    if problem:
        raise DueProcessError(f"{KEY_SETTING}: refusing the signing key: {problem}")
    legacy = settings.legacy_signing_key_path
    if not path.exists() and settings.log_signing_key is None and legacy.exists():
        raise DueProcessError(
            f"{KEY_SETTING}: the log's key is at {legacy}, inside the data directory; move "
            f"it to {path} (chmod 600), or set {KEY_SETTING} to where you keep it"
        )
    try:
        key, created = load_or_create_signing_key(path)
    except SigningKeyError as exc:
        raise DueProcessError(f"{KEY_SETTING}: {exc}") from None
    except OSError as exc:
        raise DueProcessError(f"{KEY_SETTING}: cannot create {path}: {exc.strerror}") from None
    if created:
        announce(f"Generated the transparency log's signing key at {path} "
                 f"(key id {key_id(key)}). Back it up privately: it is the log's identity.")
    return key


def log_public_key_pem() -> bytes | None:
    """PEM public key of the configured signing key, or None if none was generated yet."""
    path = get_transparency_settings().signing_key_path
    if not path.exists():
        return None
    try:
        key, _ = load_or_create_signing_key(path)
    except SigningKeyError as exc:
        raise DueProcessError(f"{KEY_SETTING}: {exc}") from None
    return public_key_pem(key)


def as_signed(row: PublishedTreeHead) -> SignedTreeHead:
    return SignedTreeHead.model_validate({
        "tree_size": row.tree_size, "root_hash": row.root_hash, "timestamp": row.timestamp,
        "key_id": row.key_id, "signature": row.signature,
    })


def tree_head_rows(session: Session) -> list[PublishedTreeHead]:
    return list(session.exec(select(PublishedTreeHead).order_by(col(PublishedTreeHead.tree_size))))


def latest_tree_head() -> SignedTreeHead | None:
    """The newest signed tree head (for the portal and API), or None before the first."""
    with session_scope() as session:
        row = session.exec(
            select(PublishedTreeHead).order_by(col(PublishedTreeHead.tree_size).desc()).limit(1)
        ).first()
        return None if row is None else as_signed(row)


def published_tree_heads() -> list[SignedTreeHead]:
    """Every signed tree head, oldest first."""
    with session_scope() as session:
        return [as_signed(row) for row in tree_head_rows(session)]


class HeadStateInconsistent(LogTampered):
    """The tree-head tables disagree: a checkpoint or consistency proof whose signed head
    is gone, or a head without its checkpoint. They are append-only and written together,
    so rows were deleted around dueprocess, or restored from different backups. Nothing is
    signed until they agree; the message names the tables, the sizes and what to do."""


def _sizes(sizes: Sequence[int]) -> str:
    shown = ", ".join(map(str, sizes[:8]))
    return shown + (f" and {len(sizes) - 8} more" if len(sizes) > 8 else "")


def check_head_state(session: Session, heads: Sequence[PublishedTreeHead]) -> None:
    """Raise `HeadStateInconsistent` unless every signed checkpoint and every consistency
    proof belongs to signed heads in `publishedtreehead`, and every head since the first
    checkpoint has its checkpoint (heads signed before checkpoints were kept, migration
    0005, have none; so a database that lost every checkpoint looks like one from then)."""
    signed = {row.tree_size for row in heads}
    noted = set(session.exec(select(SignedCheckpoint.tree_size)))
    proven = {size for pair in session.exec(
        select(ConsistencyProof.old_size, ConsistencyProof.new_size)) for size in pair}
    findings: list[str] = []
    restore: list[str] = []
    headless = sorted((noted | proven) - signed)
    if headless:
        holders = []
        if orphans := sorted(noted - signed):
            holders.append(f"signedcheckpoint has rows of tree size {_sizes(orphans)}")
        if unproven := sorted(proven - signed):
            holders.append(f"consistencyproof has proofs from or to tree size "
                           f"{_sizes(unproven)}")
        those = "that size" if len(headless) == 1 else "those sizes"
        findings.append(f"{' and '.join(holders)}, but publishedtreehead has no head of {those}")
        restore.append(f"publishedtreehead of tree size {_sizes(headless)}")
    first = min(noted, default=None)
    if first is not None and (unnoted := sorted(s for s in signed - noted if s > first)):
        findings.append(f"publishedtreehead has heads of tree size {_sizes(unnoted)} with no "
                        f"signedcheckpoint row (every head since the first checkpoint, of "
                        f"size {first}, has one)")
        restore.append(f"signedcheckpoint of tree size {_sizes(unnoted)}")
    if findings:
        published = get_transparency_settings().publication_dir / "tree-heads"
        raise HeadStateInconsistent(
            f"the tree-head tables disagree: {'; '.join(findings)}. They are append-only "
            "and written together, so rows were deleted with their triggers dropped, or "
            "restored from different backups. Restore the missing rows "
            f"({'; '.join(restore)}) from a backup of the case database (every signed head "
            f"is also published as {published}/<size, 12 digits>.json), then run `dueprocess "
            "verify`. No tree head is signed until the tables agree."
        )


def publish_tree_head(
    *, announce: Announce = announce_to_stderr, now: datetime | None = None,
    witnesses: bool = True,
) -> SignedTreeHead | None:
    """Sign the current log (if it grew since the last head) and publish the head, with
    the cosignatures of the witnesses it asks (`witnesses`: the scheduled signing,
    publish-head and export wait for them; a decision's commit does not).

    Returns the newest head (None while the log is empty). Refuses, naming the head, to
    sign a log that does not extend the last head in the database or in the published
    files (a rewritten history is never signed over).
    """
    key = signing_key(announce)
    proof: ConsistencyProof | None = None
    with session_scope() as session:
        head = locked_head(session)  # no appends while we sign
        rows = tree_head_rows(session)
        check_head_state(session, rows)
        latest = as_signed(rows[-1]) if rows else None
        earlier = [h for h in (latest, published_latest()) if h is not None]
        for sth in earlier:
            if sth.key_id != key_id(key):
                raise DueProcessError(
                    f"{KEY_SETTING}: the key at {get_transparency_settings().signing_key_path} "
                    f"(id {key_id(key)[:16]}…) did not sign the published tree heads "
                    f"(id {sth.key_id[:16]}…); restore the log's key"
                )
        if head.size == 0:
            return None
        if latest is not None and latest.tree_size == head.size and all(
            _same_size_matches(sth, head.size, head.root()) for sth in earlier
        ):
            sth = latest
        else:
            tree = MerkleTree(checked_leaf_hashes(session, head.size))
            if tree.root != head.root():
                raise LogTampered("the log head's root does not match its leaves; "
                                  "run `dueprocess verify`")
            proofs = [_consistency(sth, tree) for sth in earlier]
            if latest is not None:
                proof = proofs[0]
                session.add(proof)
            sth = sign_tree_head(key, tree_size=tree.size, root_hash=tree.root,
                                 timestamp=now or utcnow())
            session.add(PublishedTreeHead(
                tree_size=sth.tree_size, root_hash=sth.root_hash,
                timestamp=sth.model_dump(mode="json")["timestamp"], key_id=sth.key_id,
                signature=sth.signature,
            ))
            origin = log_origin(key)
            session.add(SignedCheckpoint(
                tree_size=sth.tree_size, origin=origin,
                note=sign_note(checkpoint_text(origin, tree.size, tree.root), origin, key),
            ))
    if witnesses:
        _ask_witnesses(sth.tree_size)
    with session_scope() as session:
        note = cosigned_note(session, sth.tree_size)
    write_publication(sth, proof, public_key_pem(key), note)
    return sth


def _ask_witnesses(tree_size: int) -> None:
    """Have the registered witnesses cosign the head just signed. Their failure is logged
    (and they are asked again next time), never raised: signing does not wait for them."""
    try:
        ask_witnesses(tree_size=tree_size)
    except (DueProcessError, OSError, ValueError, sa.exc.SQLAlchemyError) as exc:
        logger.error("could not ask the witnesses to cosign the head of size %s: %s",
                     tree_size, exc)


def log_origin(key: Ed25519PrivateKey | Ed25519PublicKey | None = None) -> str:
    """The log's name in its checkpoints: DUEPROCESS_LOG_ORIGIN, or one derived from its
    key (so two logs never share a name by accident)."""
    configured = get_transparency_settings().log_origin
    if configured:
        return configured
    if key is None:
        pem = log_public_key_pem()
        if pem is None:
            raise DueProcessError(f"{KEY_SETTING}: no signing key yet, so no origin")
        return f"dueprocess/{key_id(load_public_key(pem))[:16]}"
    return f"dueprocess/{key_id(key)[:16]}"


def log_vkey_now() -> str:
    """The log's C2SP note verifier key (origin+keyid+base64), what witnesses are given."""
    pem = log_public_key_pem()
    if pem is None:
        raise DueProcessError(f"{KEY_SETTING}: no signing key yet, so no verifier key")
    return log_vkey(log_origin(), load_public_key(pem))


def head_history(session: Session) -> list[tuple[SignedTreeHead, str | None]]:
    """Every signed tree head, oldest first, with its checkpoint note (None for heads
    signed before checkpoints were kept) carrying every witness cosignature held."""
    notes = {row.tree_size: row.note for row in session.exec(select(SignedCheckpoint))}
    for cosignature in session.exec(select(WitnessCosignature).order_by(
            col(WitnessCosignature.witness))):
        if cosignature.tree_size in notes:
            notes[cosignature.tree_size] = add_signature_lines(
                notes[cosignature.tree_size], [cosignature.line])
    return [(as_signed(row), notes.get(row.tree_size)) for row in tree_head_rows(session)]


def consistency_between(session: Session, first: int, second: int) -> list[bytes]:
    """RFC 9162 consistency proof from the signed head of size *first* to that of size
    *second* (both must be signed heads), from the stored leaf hashes. Raises
    `LookupError` for a size that is not a signed head, `LogTampered` if the stored
    leaves no longer reach a signed root."""
    if first > second:
        raise ValueError("first must not be larger than second")
    heads = {row.tree_size: row for row in tree_head_rows(session)}
    for size in (first, second):
        if size not in heads:
            raise LookupError(f"no signed tree head of size {size}")
    tree = signed_tree(session, heads[second])
    return tree.consistency_proof(first) if first else []


def signed_tree(session: Session, head: PublishedTreeHead) -> MerkleTree:
    """The Merkle tree of the stored leaves that `head` signed; `LogTampered` if they no
    longer give its signed root."""
    column = LogLeaf.__table__.c  # type: ignore[attr-defined]
    hashes = [bytes.fromhex(h) for h in session.connection().execute(
        sa.select(column.leaf_hash).where(column.leaf_index < head.tree_size)
        .order_by(column.leaf_index)).scalars()]
    tree = MerkleTree(hashes)
    if tree.size != head.tree_size or tree.root != as_signed(head).root_hash_bytes:
        raise LogTampered("the stored leaves no longer give the signed root of size "
                          f"{head.tree_size}; run `dueprocess verify`")
    return tree


@sa.event.listens_for(OrmSession, "after_commit")
def _sign_after_decision(session: Session) -> None:
    """After a transaction that decided or closed a case commits, sign a head over it, so
    the decision is protected at once. A failure here cannot undo the decision: it is
    logged, and the scheduled sign-heads deployment signs later."""
    if not session.info.pop(SIGN_AFTER_COMMIT, False):
        return
    if not get_transparency_settings().sign_heads_on_decision:
        return
    try:
        # The witnesses are asked by the next scheduled signing: a commit never waits on them.
        publish_tree_head(announce=logger.warning, witnesses=False)
    except (DueProcessError, OSError) as exc:
        logger.error("could not sign a tree head after a decision: %s", exc)


def published_latest() -> SignedTreeHead | None:
    """The head in the published latest-tree-head.json, if there is a readable one."""
    path = get_transparency_settings().publication_dir / "latest-tree-head.json"
    try:
        return SignedTreeHead.model_validate_json(path.read_bytes())
    except (OSError, ValueError):
        return None


def _same_size_matches(sth: SignedTreeHead, size: int, root: bytes) -> bool:
    return sth.tree_size != size or sth.root_hash_bytes == root


def _refuse(earlier: SignedTreeHead, why: str) -> LogTampered:
    when = earlier.model_dump(mode="json")["timestamp"]
    return LogTampered(f"{why} the tree head of size {earlier.tree_size} signed at {when}; "
                       "refusing to sign")


def _consistency(earlier: SignedTreeHead, tree: MerkleTree) -> ConsistencyProof:
    if earlier.tree_size > tree.size:
        raise _refuse(earlier, f"the log has only {tree.size} leaves (it was truncated) after")
    proof = tree.consistency_proof(earlier.tree_size) if earlier.tree_size else []
    try:
        verify_consistency(
            old_size=earlier.tree_size, new_size=tree.size,
            old_root=earlier.root_hash_bytes, new_root=tree.root, proof=proof,
        )
    except ProofError:
        raise _refuse(earlier, "the log (history rewritten) is not an extension of") from None
    return ConsistencyProof(old_size=earlier.tree_size, new_size=tree.size,
                            proof=[b64encode(p) for p in proof])


def head_json(sth: SignedTreeHead) -> bytes:
    """The published (and dossier) spelling of a tree head file."""
    return (sth.model_dump_json(indent=2) + "\n").encode()


def write_publication(sth: SignedTreeHead, proof: ConsistencyProof | None, pem: bytes,
                      checkpoint: str | None = None) -> None:
    directory = get_transparency_settings().publication_dir
    name = f"{sth.tree_size:012d}.json"
    _write_atomic(directory / "tree-heads" / name, head_json(sth))
    if proof is not None:
        text = json.dumps({"old_size": proof.old_size, "new_size": proof.new_size,
                           "proof": proof.proof}, indent=2)
        _write_atomic(directory / "consistency" / f"{proof.old_size:012d}-{name}",
                      (text + "\n").encode())
    _write_atomic(directory / "public-key.pem", pem)
    latest = directory / "latest-tree-head.json"
    try:
        current = SignedTreeHead.model_validate_json(latest.read_bytes()).tree_size
    except (OSError, ValueError):
        current = -1
    if current <= sth.tree_size:  # a slower concurrent publisher must not step back
        _write_atomic(latest, head_json(sth))
        if checkpoint is not None:
            _write_atomic(directory / "checkpoint", checkpoint.encode())


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # published files are public
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
