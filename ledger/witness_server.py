"""A C2SP `tlog-witness` server: cosigns a log's checkpoints that extend what it saw.

    POST /add-checkpoint                 the C2SP tlog-witness API, as the spec gives it
    GET  /latest-checkpoint?origin=O     extension: the newest checkpoint it cosigned for
                                         origin O (the log's note with this cosignature)

`add-checkpoint` takes ``old <size>\\n``, the consistency proof (base64, one hash a
line, at most 63), a blank line and the checkpoint note. It answers 400 for a malformed
body (or old larger than the size), 404 for an origin it does not witness, 403 when no
signature verifies with the log's key, 409 (body: the size it holds, Content-Type
``text/x.tlog.size``) when *old* is not the size it cosigned last or the same size has
another root, 422 when the proof does not verify, and 200 with its cosignature line
otherwise. Checking and recording the new checkpoint hold one file lock, so two
concurrent requests can never roll the witness back (the race the spec describes).
The state (per origin: the size, root and cosigned note) is a JSON file.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ledger.checkpoint import (
    ED25519_TYPE,
    CheckpointError,
    note_key_id,
    parse_checkpoint,
    verify_note,
)
from ledger.cosignature import (
    SIZE_MEDIA_TYPE,
    CosignatureError,
    WitnessSigner,
    add_signature_lines,
    cosign,
    note_body,
    signature_lines,
)
from ledger.merkle import HASH_SIZE, ProofError, verify_consistency

__all__ = ["Answer", "WitnessService", "parse_log_vkey", "witness_app"]

MAX_PROOF_LINES = 63
MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    media_type: str = "text/plain; charset=utf-8"


def parse_log_vkey(text: str) -> tuple[str, Ed25519PublicKey]:
    """(origin, key) of a log's note verifier key; `CosignatureError` names the problem."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise CosignatureError(f"log key {text!r}: expected origin+keyid+base64 key")
    origin, key_hash, blob = parts
    try:
        raw = base64.b64decode(blob, validate=True)
    except binascii.Error:
        raise CosignatureError(f"log key {origin}: the key is not base64") from None
    if len(raw) != 33 or raw[:1] != ED25519_TYPE:
        raise CosignatureError(f"log key {origin}: expected 0x01 and a 32-byte Ed25519 key")
    key = Ed25519PublicKey.from_public_bytes(raw[1:])
    if note_key_id(origin, key).hex() != key_hash.lower():
        raise CosignatureError(f"log key {origin}: key id {key_hash} does not match the key")
    return origin, key


class _Malformed(ValueError):
    pass


def _parse_request(body: bytes) -> tuple[int, list[bytes], str]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _Malformed("the body is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise _Malformed("no blank line between the proof and the checkpoint")
    lines = head.split("\n")
    old_line, proof_lines = lines[0], lines[1:]
    if not old_line.startswith("old ") or not (
            old_line[4:] == "0" or (old_line[4:].isdigit() and old_line[4] != "0")):
        raise _Malformed(f"the first line must be 'old <size>', not {old_line[:40]!r}")
    if len(proof_lines) > MAX_PROOF_LINES:
        raise _Malformed(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof: list[bytes] = []
    for number, line in enumerate(proof_lines, 1):
        try:
            hashed = base64.b64decode(line, validate=True)
        except binascii.Error:
            hashed = b""
        if len(hashed) != HASH_SIZE:
            raise _Malformed(f"consistency proof line {number} is not a base64 SHA-256 hash")
        proof.append(hashed)
    return int(old_line[4:]), proof, note


class WitnessService:
    """The witness's checks and state, independent of HTTP (the app below serves it)."""

    def __init__(self, *, signer: WitnessSigner, state_path: Path,
                 logs: Mapping[str, Ed25519PublicKey]) -> None:
        self.signer = signer
        self.state_path = state_path
        self.logs = dict(logs)

    @contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.state_path.with_name(self.state_path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield self._read()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        if not isinstance(data, dict):
            raise ValueError(f"{self.state_path}: not a witness server state file")
        return data

    def _write(self, state: dict[str, Any]) -> None:
        fd, tmp = tempfile.mkstemp(prefix=f".{self.state_path.name}.",
                                   dir=self.state_path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(state, fh, indent=2)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())  # persisted before the cosignature leaves (the spec)
            os.replace(tmp, self.state_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def latest(self, origin: str) -> str | None:
        """The newest cosigned checkpoint note of *origin*, or None."""
        with self._locked() as state:
            entry = state.get(origin)
        return entry["note"] if isinstance(entry, dict) else None

    def add_checkpoint(self, body: bytes, *, now: int | None = None) -> Answer:
        try:
            old, proof, note = _parse_request(body)
            text = note_body(note)
            signature_lines(note)
            checkpoint = parse_checkpoint(text)
        except (_Malformed, CheckpointError) as exc:
            return Answer(400, f"malformed add-checkpoint request: {exc}\n")
        key = self.logs.get(checkpoint.origin)
        if key is None:
            return Answer(404, f"unknown log origin {checkpoint.origin!r}\n")
        try:
            verify_note(note, checkpoint.origin, key)
        except CheckpointError as exc:
            return Answer(403, f"the checkpoint is not signed by the log's key: {exc}\n")
        if old > checkpoint.tree_size:
            return Answer(400, f"old size {old} is larger than the checkpoint's "
                               f"{checkpoint.tree_size}\n")
        root = base64.b64encode(checkpoint.root_hash).decode()
        with self._locked() as state:
            held = state.get(checkpoint.origin) or {"size": 0, "root": None}
            if old != held["size"]:
                return Answer(409, f"{held['size']}\n", SIZE_MEDIA_TYPE)
            if old == checkpoint.tree_size and held["root"] not in (None, root):
                return Answer(409, f"{held['size']}\n", SIZE_MEDIA_TYPE)
            if old == 0 and proof:
                return Answer(422, "the consistency proof must be empty when old is 0\n")
            if 0 < old < checkpoint.tree_size:
                try:
                    verify_consistency(old_size=old, new_size=checkpoint.tree_size,
                                       old_root=base64.b64decode(held["root"]),
                                       new_root=checkpoint.root_hash, proof=proof)
                except ProofError as exc:
                    return Answer(422, f"the consistency proof from size {old} does not "
                                       f"verify: {exc}\n")
            timestamp = int(time.time()) if now is None else now
            line = cosign(text, self.signer, timestamp=timestamp)
            state[checkpoint.origin] = {
                "size": checkpoint.tree_size, "root": root, "timestamp": timestamp,
                "note": add_signature_lines(note, [line]),
            }
            self._write(state)
        return Answer(200, line + "\n")


def witness_app(service: WitnessService) -> Starlette:
    """The ASGI app serving *service* (run it under uvicorn)."""

    async def add_checkpoint(request: Request) -> Response:
        body = bytearray()
        async for chunk in request.stream():  # never more than MAX_BODY held in memory
            body += chunk
            if len(body) > MAX_BODY:
                return PlainTextResponse("request body too large\n", status_code=400)
        answer = service.add_checkpoint(bytes(body))
        return Response(answer.body, status_code=answer.status, media_type=answer.media_type)

    async def latest_checkpoint(request: Request) -> Response:
        origin = request.query_params.get("origin")
        if not origin:
            return PlainTextResponse("origin: required query parameter\n", status_code=400)
        note = service.latest(origin)
        if note is None:
            return PlainTextResponse(f"no checkpoint of {origin!r} cosigned yet\n",
                                     status_code=404)
        return PlainTextResponse(note)

    return Starlette(routes=[
        Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
        Route("/latest-checkpoint", latest_checkpoint, methods=["GET"]),
    ])
