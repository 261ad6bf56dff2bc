"""The log asks its witnesses to cosign, keeps what they sign, and reads back what they hold.

After a head is signed, every witness registered in DUEPROCESS_WITNESSES that has not
cosigned it yet is sent the checkpoint through the C2SP tlog-witness `add-checkpoint`
call, with a consistency proof from the newest checkpoint it cosigned before. A 409
names the size the witness holds: the log retries once from there. Each cosignature is
verified with the witness's registered key before it is stored (append-only table
`witnesscosignature`); one by an unknown key, over another checkpoint's text, or older
than the one held is refused, logged with its reason, and never replaces a good one. A
witness that is down or refuses is logged and asked again with the next head: signing
never waits for it.

`witnessed_checkpoints()` asks the same witnesses (extension `GET /latest-checkpoint`)
for the newest checkpoint of this log they cosigned, for `dueprocess verify`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import Session, col, select

from dueprocess.db import session_scope
from dueprocess.settings import get_transparency_settings
from ledger import MerkleTree
from ledger.checkpoint import CheckpointError, parse_checkpoint, verify_note
from ledger.codec import b64encode
from ledger.cosignature import (
    SIZE_MEDIA_TYPE,
    Cosignature,
    CosignatureError,
    WitnessKey,
    add_signature_lines,
    note_body,
    parse_vkey,
    signature_lines,
    verify_cosignature,
)
from models.ledger import LogLeaf, PublishedTreeHead, SignedCheckpoint, WitnessCosignature

logger = logging.getLogger(__name__)
FUTURE_SLACK_SECONDS = 300  # a witness clock this far ahead is still believed


@dataclass(frozen=True)
class Witness:
    url: str
    key: WitnessKey


@dataclass
class Outcome:
    """What asking the witnesses for one checkpoint gave: cosignatures stored, problems."""

    tree_size: int
    stored: list[str] = field(default_factory=list)  # witness names
    problems: list[str] = field(default_factory=list)


def registered_witnesses() -> list[Witness]:
    """The witnesses of DUEPROCESS_WITNESSES; a bad verifier key is named and skipped."""
    witnesses: list[Witness] = []
    for url, vkey in get_transparency_settings().witness_entries:
        try:
            witnesses.append(Witness(url, parse_vkey(vkey)))
        except CosignatureError as exc:
            logger.error("DUEPROCESS_WITNESSES: %s: %s", url, exc)
    return witnesses


def cosigned_note(session: Session, tree_size: int) -> str | None:
    """The checkpoint of *tree_size* with every cosignature the log holds for it."""
    row = session.get(SignedCheckpoint, tree_size)
    if row is None:
        return None
    lines = session.exec(select(WitnessCosignature.line)
                         .where(WitnessCosignature.tree_size == tree_size)
                         .order_by(col(WitnessCosignature.witness))).all()
    return add_signature_lines(row.note, list(lines))


def _consistency(session: Session, old: int, new: int) -> list[bytes]:
    if old == 0 or old == new:
        return []
    column = LogLeaf.__table__.c  # type: ignore[attr-defined]
    hashes = [bytes.fromhex(h) for h in session.connection().execute(
        sa.select(column.leaf_hash).where(column.leaf_index < new)
        .order_by(column.leaf_index)).scalars()]
    return MerkleTree(hashes).consistency_proof(old)


def _request_body(old: int, proof: Sequence[bytes], note: str) -> bytes:
    return (f"old {old}\n" + "".join(b64encode(p) + "\n" for p in proof) + "\n"
            + note).encode()


@dataclass(frozen=True)
class _Plan:
    witness: Witness
    old: int  # the size it cosigned last (as far as this log knows)
    proof: list[bytes]


def ask_witnesses(*, tree_size: int | None = None) -> Outcome | None:
    """Ask every registered witness that has not cosigned the checkpoint of *tree_size*
    (default: the newest) to cosign it. Never raises for a witness's failure."""
    witnesses = registered_witnesses()
    if not witnesses:
        return None
    with session_scope() as session:
        query = select(SignedCheckpoint).order_by(col(SignedCheckpoint.tree_size).desc())
        if tree_size is not None:
            query = query.where(SignedCheckpoint.tree_size == tree_size)
        row = session.exec(query.limit(1)).first()
        if row is None:
            return None
        size, note = row.tree_size, row.note
        held = {(c.witness, c.key_id) for c in session.exec(
            select(WitnessCosignature).where(WitnessCosignature.tree_size == size))}
        plans, proofs = [], {}  # the witnesses mostly hold one old size: one proof each
        for witness in witnesses:
            if (witness.key.name, witness.key.key_id.hex()) in held:
                continue
            old = _last_cosigned(session, witness, below=size)
            if old not in proofs:
                proofs[old] = _consistency(session, old, size)
            plans.append(_Plan(witness, old, proofs[old]))
        signed_sizes = set(session.exec(select(PublishedTreeHead.tree_size)))
    outcome = Outcome(tree_size=size)
    if not plans:
        return outcome
    timeout = get_transparency_settings().witness_timeout_seconds
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        for plan in plans:
            _ask_one(client, plan, size, note, signed_sizes, outcome)
    return outcome


def _last_cosigned(session: Session, witness: Witness, *, below: int) -> int:
    last = session.exec(
        select(sa.func.max(WitnessCosignature.tree_size)).where(
            WitnessCosignature.witness == witness.key.name,
            WitnessCosignature.key_id == witness.key.key_id.hex(),
            WitnessCosignature.tree_size < below)).one()
    return int(last or 0)


def _post(client: httpx.Client, witness: Witness, body: bytes) -> httpx.Response:
    return client.post(f"{witness.url}/add-checkpoint", content=body,
                       headers={"Content-Type": "text/plain; charset=utf-8"})


def _ask_one(client: httpx.Client, plan: _Plan, size: int, note: str, signed: set[int],
             outcome: Outcome) -> None:
    witness = plan.witness
    who = f"witness {witness.key.name} ({witness.url})"

    def problem(message: str) -> None:
        logger.warning("%s", message)
        outcome.problems.append(message)

    try:
        response = _post(client, witness, _request_body(plan.old, plan.proof, note))
        if response.status_code == 409 and response.headers.get(
                "content-type", "").startswith(SIZE_MEDIA_TYPE):
            held = response.text.strip()
            if not held.isdigit():
                return problem(f"{who}: 409 with a size that is not a number: {held[:40]!r}")
            old = int(held)
            if old > size:
                return problem(f"{who}: holds a checkpoint of size {old}, newer than the "
                               f"checkpoint of size {size} it was asked to cosign")
            if old not in signed and old != 0:
                return problem(f"{who}: holds a checkpoint of size {old}, which this log never "
                               "signed (a fork, or another log under this origin)")
            with session_scope() as session:
                proof = _consistency(session, old, size)
            response = _post(client, witness, _request_body(old, proof, note))
    except httpx.HTTPError as exc:
        return problem(f"{who}: cannot be reached ({exc}); it is asked again with the next "
                       "head")
    if response.status_code != 200:
        return problem(f"{who}: refused the checkpoint of size {size}: HTTP "
                       f"{response.status_code} {response.text.strip()[:200]}")
    for line in filter(None, response.text.split("\n")):
        try:
            cosignature = check_cosignature(note, line, witness.key, size=size)
        except CosignatureError as exc:
            problem(f"{who}: cosignature refused: {exc}")
            continue
        try:
            store_cosignature(size, cosignature)
        except CosignatureError as exc:
            problem(f"{who}: cosignature refused: {exc}")
            continue
        outcome.stored.append(witness.key.name)


def check_cosignature(note: str, line: str, key: WitnessKey, *, size: int) -> Cosignature:
    """*line* verified as *key*'s cosignature over the checkpoint *note* (of *size*);
    `CosignatureError` says why not, naming an older checkpoint it is over if it is."""
    body = note_body(note)
    try:
        return verify_cosignature(body, line, key,
                                  not_after=int(time.time()) + FUTURE_SLACK_SECONDS)
    except CosignatureError as exc:
        if "does not verify" not in str(exc):
            raise
        with session_scope() as session:
            earlier = session.exec(
                select(SignedCheckpoint).where(SignedCheckpoint.tree_size < size)
                .order_by(col(SignedCheckpoint.tree_size).desc()).limit(8)).all()
        for row in earlier:
            try:
                verify_cosignature(note_body(row.note), line, key)
            except CosignatureError:
                continue
            raise CosignatureError(
                f"witness {key.name}: the cosignature is for the older checkpoint of size "
                f"{row.tree_size}, not the checkpoint of size {size}") from None
        raise


def store_cosignature(size: int, cosignature: Cosignature) -> bool:
    """Keep a verified cosignature of the checkpoint of *size*. Refuses (with the reason)
    one older than the newest cosignature held from that witness; one for a checkpoint
    that already has this witness's cosignature is not stored (a good one stays).
    Returns whether it was stored."""
    key_id = cosignature.key_id.hex()
    with session_scope() as session:
        newest = session.exec(
            select(sa.func.max(WitnessCosignature.timestamp)).where(
                WitnessCosignature.witness == cosignature.witness,
                WitnessCosignature.key_id == key_id)).one()
        if newest is not None and cosignature.timestamp < newest:
            raise CosignatureError(
                f"witness {cosignature.witness}: the cosignature is dated "
                f"{cosignature.timestamp}, older than the one held (dated {newest})")
        if session.get(WitnessCosignature, (size, cosignature.witness, key_id)) is not None:
            return False
        session.add(WitnessCosignature(tree_size=size, witness=cosignature.witness,
                                       key_id=key_id, timestamp=cosignature.timestamp,
                                       line=cosignature.line))
    return True


@dataclass(frozen=True)
class WitnessedCheckpoint:
    """The newest checkpoint of this log a witness cosigned, both signatures verified."""

    witness: str
    tree_size: int
    root_hash: bytes
    timestamp: int  # when the witness cosigned it


def witnessed_checkpoints(origin: str, log_key: Ed25519PublicKey
                          ) -> tuple[list[WitnessedCheckpoint], list[str]]:
    """(what each registered witness holds for *origin*, problems: witnesses that did not
    answer or answered something that does not verify)."""
    found: list[WitnessedCheckpoint] = []
    problems: list[str] = []
    timeout = get_transparency_settings().witness_timeout_seconds
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        for witness in registered_witnesses():
            who = f"witness {witness.key.name} ({witness.url})"
            try:
                response = client.get(f"{witness.url}/latest-checkpoint",
                                      params={"origin": origin})
            except httpx.HTTPError as exc:
                problems.append(f"{who}: no answer ({exc})")
                continue
            if response.status_code == 404:
                problems.append(f"{who}: holds no checkpoint of {origin}")
                continue
            if response.status_code != 200:
                problems.append(f"{who}: HTTP {response.status_code}")
                continue
            note = response.text
            try:
                checkpoint = parse_checkpoint(verify_note(note, origin, log_key))
                line = next((li for li in signature_lines(note)
                             if li.split(" ", 2)[1:2] == [witness.key.name]), None)
                if line is None:
                    raise CosignatureError(f"witness {witness.key.name}: its answer carries "
                                           "no cosignature of it")
                cosignature = verify_cosignature(note_body(note), line, witness.key)
            except (CheckpointError, CosignatureError) as exc:
                problems.append(f"{who}: its checkpoint does not verify: {exc}")
                continue
            found.append(WitnessedCheckpoint(witness.key.name, checkpoint.tree_size,
                                             checkpoint.root_hash, cosignature.timestamp))
    return found, problems
