"""A witness: fetch a log's signed tree heads and check that the log only ever grew.

`dueprocess witness URL` keeps, in a local state file, the log's public key and the
newest head it has verified. Each run fetches ``<URL>/transparency/heads.json``, checks
every head's Ed25519 signature (and its C2SP checkpoint note), and then proves, with an
RFC 9162 consistency proof fetched from the log and checked against the root *the
witness kept*, that the newest head extends the one it saw before. A log rewritten after
the witness saw it (even one re-signed with the real key, its old heads deleted) cannot
produce that proof: the witness fails loudly and keeps its state, so every later run
fails too until a person looks.

With a witness key (`--key`), it then cosigns the newest checkpoint (C2SP
tlog-cosignature/v1, `ledger.cosignature`) and keeps the cosigned note in its state; the
log obtains cosignatures itself through the tlog-witness API (`dueprocess witness-serve`).

Database-free: it needs only HTTP and the published heads.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from ledger.checkpoint import CheckpointError, parse_checkpoint, verify_note
from ledger.codec import b64decode
from ledger.cosignature import WitnessSigner, add_signature_lines, cosign, note_body
from ledger.merkle import HASH_SIZE, ProofError, verify_consistency
from ledger.signing import (
    SignatureError,
    SignedTreeHead,
    SigningKeyError,
    load_public_key,
    public_key_pem,
    verify_tree_head,
)

__all__ = ["WitnessError", "WitnessReport", "WitnessState", "witness"]

Fetch = Callable[[str], Any]  # GET a URL, return its JSON


class WitnessError(Exception):
    """The log is not consistent with what the witness saw, or cannot be checked."""


class WitnessState(BaseModel):
    """What a witness keeps between runs (JSON in its state file)."""

    model_config = ConfigDict(extra="forbid")

    url: str
    public_key: str  # PEM
    origin: str | None = None
    latest: SignedTreeHead | None = None
    seen: int = 0  # heads verified over all runs
    cosigned: str | None = None  # the newest checkpoint note with this witness's cosignature


@dataclass(frozen=True)
class WitnessReport:
    url: str
    previous: SignedTreeHead | None
    latest: SignedTreeHead
    heads_checked: int
    first_use: bool
    cosignature: str | None = None  # the line this witness signed, if it has a key

    def summary(self) -> str:
        head = f"size {self.latest.tree_size}, root {self.latest.root_hash}"
        if self.previous is None:
            how = "first head seen (key trusted on first use)" if self.first_use else \
                "first head seen"
        elif self.previous.tree_size == self.latest.tree_size:
            how = "unchanged since the last run"
        else:
            how = (f"consistent with the head of size {self.previous.tree_size} seen before "
                   "(RFC 9162 proof verified)")
        signed = f"\ncosigned: {self.cosignature}" if self.cosignature else ""
        return (f"OK: {self.url}: {self.heads_checked} signed heads verified; newest {head}: "
                f"{how}{signed}")


def http_fetch(timeout: float = 30.0) -> Fetch:
    def fetch(url: str) -> Any:
        try:
            response = httpx.get(url, timeout=timeout, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise WitnessError(f"{url}: cannot fetch ({exc})") from None
        if response.status_code != 200:
            detail = response.text[:200].strip()
            raise WitnessError(f"{url}: HTTP {response.status_code} {detail}")
        try:
            return response.json()
        except ValueError:
            raise WitnessError(f"{url}: the answer is not JSON") from None
    return fetch


def _prefix(url: str) -> str:
    base = url.rstrip("/")
    return base if base.endswith("/transparency") else base + "/transparency"


def state_path_for(url: str, directory: Path) -> Path:
    digest = hashlib.sha256(_prefix(url).encode()).hexdigest()[:16]
    return directory / f"witness-{digest}.json"


def load_state(path: Path) -> WitnessState | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WitnessError(f"--state {path}: cannot read ({exc.strerror})") from None
    try:
        return WitnessState.model_validate_json(data)
    except ValidationError as exc:
        raise WitnessError(f"--state {path}: not a witness state file ({exc.errors()[0]['msg']})"
                           ) from None


def save_state(path: Path, state: WitnessState) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(state.model_dump_json(indent=2) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _same_key(a: str, b: str) -> bool:
    try:
        return public_key_pem(load_public_key(a.encode())) == public_key_pem(
            load_public_key(b.encode()))
    except SigningKeyError as exc:
        raise WitnessError(f"public key: {exc}") from None


def _heads(listing: Any, pem: str) -> tuple[list[SignedTreeHead], str | None, str | None]:
    """Every listed head, each verified (STH signature, and its checkpoint note), the
    origin, and the newest head's checkpoint note."""
    if not isinstance(listing, dict) or not isinstance(listing.get("heads"), list):
        raise WitnessError("heads.json: expected an object with a list of heads")
    origin = listing.get("origin")
    key = load_public_key(pem.encode())
    heads: list[SignedTreeHead] = []
    newest_note: str | None = None
    for number, item in enumerate(listing["heads"]):
        where = f"heads.json: head #{number}"
        if not isinstance(item, dict):
            raise WitnessError(f"{where}: not an object")
        note = item.get("checkpoint")
        try:
            sth = SignedTreeHead.model_validate({k: v for k, v in item.items()
                                                 if k != "checkpoint"})
            verify_tree_head(sth, pem.encode())
        except (ValidationError, SignatureError) as exc:
            raise WitnessError(f"{where}: not a valid signed tree head ({exc})") from None
        if note is not None:
            if not isinstance(origin, str) or not isinstance(note, str):
                raise WitnessError(f"{where}: a checkpoint needs the log's origin")
            try:
                checkpoint = parse_checkpoint(verify_note(note, origin, key))
            except CheckpointError as exc:
                raise WitnessError(f"{where}: checkpoint: {exc}") from None
            if (checkpoint.origin, checkpoint.tree_size, checkpoint.root_hash) != (
                origin, sth.tree_size, sth.root_hash_bytes
            ):
                raise WitnessError(f"{where}: its checkpoint names another origin, size or root")
        if heads and sth.tree_size <= heads[-1].tree_size:
            raise WitnessError(f"{where}: sizes must increase ({sth.tree_size} after "
                               f"{heads[-1].tree_size})")
        heads.append(sth)
        newest_note = note if isinstance(note, str) else None
    return heads, origin if isinstance(origin, str) else None, newest_note


def _proof(fetch: Fetch, prefix: str, old: SignedTreeHead, new: SignedTreeHead) -> None:
    url = f"{prefix}/consistency.json?first={old.tree_size}&second={new.tree_size}"
    try:
        answer = fetch(url)
    except WitnessError as exc:
        raise WitnessError(f"the log cannot prove that its head of size {new.tree_size} "
                           f"extends the head of size {old.tree_size} this witness saw: "
                           f"{exc}") from None
    try:
        proof = [b64decode(p, what="proof", length=HASH_SIZE) for p in answer["proof"]]
        verify_consistency(old_size=old.tree_size, new_size=new.tree_size,
                           old_root=old.root_hash_bytes, new_root=new.root_hash_bytes,
                           proof=proof)
    except (KeyError, TypeError, ValueError, ProofError) as exc:
        raise WitnessError(f"LOG REWRITTEN: the head of size {new.tree_size} is not an "
                           f"extension of the head of size {old.tree_size} (root "
                           f"{old.root_hash}) this witness saw: {exc}") from None


def witness(url: str, state_path: Path, *, trusted_public_key_pem: bytes | None = None,
            fetch: Fetch | None = None, signer: WitnessSigner | None = None,
            now: int | None = None) -> WitnessReport:
    """Check the log at *url* against the state in *state_path*, then update the state.
    Raises `WitnessError` (and leaves the state as it was) if the log was rewritten.
    With *signer*, cosigns the newest checkpoint once it is checked."""
    fetch = fetch or http_fetch()
    prefix = _prefix(url)
    state = load_state(state_path)
    if state is not None and _prefix(state.url) != prefix:
        raise WitnessError(f"--state {state_path} belongs to {state.url}, not {url}")
    listing = fetch(f"{prefix}/heads.json")
    served = listing.get("public_key") if isinstance(listing, dict) else None
    if trusted_public_key_pem is not None:
        pem = trusted_public_key_pem.decode("ascii", errors="replace")
    elif state is not None:
        pem = state.public_key
    elif isinstance(served, str):
        pem = served  # trust on first use; the state pins it from now on
    else:
        raise WitnessError("heads.json names no public key; pass --trusted-key")
    if state is not None and not _same_key(pem, state.public_key):
        raise WitnessError("the trusted key differs from the one this witness pinned before")
    if isinstance(served, str) and not _same_key(pem, served):
        raise WitnessError("LOG KEY CHANGED: the log now publishes a different public key "
                           "than the one this witness trusts")
    heads, origin, newest_note = _heads(listing, pem)
    if not heads:
        raise WitnessError("the log lists no signed tree head yet")
    previous = state.latest if state else None
    newest = heads[-1]
    if state is not None and state.origin and origin and state.origin != origin:
        raise WitnessError(f"the log's origin changed from {state.origin!r} to {origin!r}")
    if previous is not None:
        same = next((h for h in heads if h.tree_size == previous.tree_size), None)
        if same is not None and same.root_hash != previous.root_hash:
            raise WitnessError(
                f"LOG REWRITTEN: the head of size {previous.tree_size} now has root "
                f"{same.root_hash}; this witness saw {previous.root_hash}")
        if newest.tree_size < previous.tree_size:
            raise WitnessError(
                f"LOG TRUNCATED: its newest head has size {newest.tree_size}, but this "
                f"witness saw a head of size {previous.tree_size}")
        if newest.tree_size > previous.tree_size:
            _proof(fetch, prefix, previous, newest)
    line = cosigned = None
    if signer is not None:
        if newest_note is None:
            raise WitnessError("the newest head has no checkpoint note to cosign")
        line = cosign(note_body(newest_note), signer,
                      timestamp=int(time.time()) if now is None else now)
        cosigned = add_signature_lines(newest_note, [line])
    save_state(state_path, WitnessState(
        url=url, public_key=pem, origin=origin or (state.origin if state else None),
        latest=newest, seen=(state.seen if state else 0) + len(heads),
        cosigned=cosigned or (state.cosigned if state else None)))
    return WitnessReport(url=url, previous=previous, latest=newest, heads_checked=len(heads),
                         first_use=state is None and trusted_public_key_pem is None,
                         cosignature=line)

