"""C2SP `tlog-cosignature/v1`: a witness's timestamped Ed25519 signature over a checkpoint.

A cosignature is one more signature line of the checkpoint's signed note::

    — <witness name> base64(key ID(4) ‖ uint64 big-endian timestamp ‖ Ed25519 signature(64))

The signed message is ``"cosignature/v1\\ntime <unix seconds>\\n"`` followed by the whole
checkpoint body; the key ID is SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4] (0x04: the
timestamped Ed25519 algorithm byte, so the same key never verifies as a plain note
signer). A witness's public key is written as a C2SP note verifier key,
``<name>+<key ID hex>+base64(0x04 ‖ public key)``; its private key file holds
``PRIVATE+KEY+<name>+<key ID hex>+base64(0x04 ‖ seed)`` (the form of Go's note keys).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.checkpoint import SIGNATURE_PREFIX, CheckpointError

__all__ = [
    "COSIGNATURE_TYPE",
    "SIZE_MEDIA_TYPE",
    "Cosignature",
    "CosignatureError",
    "WitnessKey",
    "WitnessSigner",
    "add_signature_lines",
    "cosign",
    "cosigned_message",
    "generate_witness_key",
    "load_witness_signer",
    "note_body",
    "parse_vkey",
    "signature_lines",
    "verify_cosignature",
]

COSIGNATURE_TYPE = 0x04
SIZE_MEDIA_TYPE = "text/x.tlog.size"  # tlog-witness: a 409's body is the size it holds
HEADER = "cosignature/v1\n"
MAX_TIMESTAMP = 2**63 - 1
_NAME_RE = re.compile(r"^[^\s+]+$")
_PRIVATE_PREFIX = "PRIVATE+KEY+"


class CosignatureError(ValueError):
    """A cosignature, witness key or key file is malformed, or a cosignature is refused.
    The message names the witness and the reason."""


@dataclass(frozen=True)
class WitnessKey:
    """A witness's public key and name, as a verifier knows it."""

    name: str
    public_key: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        return cosignature_key_id(self.name, self.public_key)

    def vkey(self) -> str:
        """The C2SP note verifier key: name+keyid+base64(0x04 ‖ public key)."""
        blob = base64.b64encode(bytes([COSIGNATURE_TYPE]) + self.public_key.public_bytes_raw())
        return f"{self.name}+{self.key_id.hex()}+{blob.decode()}"


@dataclass(frozen=True)
class WitnessSigner:
    name: str
    private_key: Ed25519PrivateKey

    @property
    def public(self) -> WitnessKey:
        return WitnessKey(self.name, self.private_key.public_key())


@dataclass(frozen=True)
class Cosignature:
    """A verified cosignature: who, when (unix seconds), and its signature line."""

    witness: str
    key_id: bytes
    timestamp: int
    line: str  # "— name base64…" without the newline


def _check_name(name: str) -> str:
    if not name or not _NAME_RE.match(name):
        raise CosignatureError(f"witness name {name!r} must be non-empty, with no spaces or "
                               "plus signs")
    return name


def cosignature_key_id(name: str, key: Ed25519PublicKey) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([COSIGNATURE_TYPE])
                          + key.public_bytes_raw()).digest()[:4]


def cosigned_message(body: str, timestamp: int) -> bytes:
    """What a cosignature signs: the header, the time line and the checkpoint body."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise CosignatureError(f"timestamp {timestamp} is outside 0..2^63-1")
    if not body.endswith("\n"):
        raise CosignatureError("the checkpoint body must end with a newline")
    return f"{HEADER}time {timestamp}\n{body}".encode()


def cosign(body: str, signer: WitnessSigner, *, timestamp: int) -> str:
    """The cosignature line (no newline) of *signer* over checkpoint *body* at *timestamp*."""
    signature = signer.private_key.sign(cosigned_message(body, timestamp))
    blob = signer.public.key_id + struct.pack(">Q", timestamp) + signature
    return f"{SIGNATURE_PREFIX}{signer.name} {base64.b64encode(blob).decode()}"


def _split_line(line: str) -> tuple[str, bytes]:
    if not line.startswith(SIGNATURE_PREFIX):
        raise CosignatureError(f"signature line {line[:40]!r} does not start with an em dash")
    name, _, blob = line[len(SIGNATURE_PREFIX):].partition(" ")
    try:
        return name, base64.b64decode(blob, validate=True)
    except binascii.Error:
        raise CosignatureError(f"the signature of {name!r} is not base64") from None


def verify_cosignature(body: str, line: str, key: WitnessKey, *,
                       not_after: int | None = None) -> Cosignature:
    """Check that *line* is *key*'s cosignature over checkpoint *body*; `CosignatureError`
    names the witness and why not (another key, the wrong text, a time in the future)."""
    name, raw = _split_line(line)
    who = f"witness {key.name}"
    if name != key.name or raw[:4] != key.key_id:
        raise CosignatureError(f"{who}: the line is signed by {name!r} with key id "
                               f"{raw[:4].hex()}, not by this witness's key ({key.key_id.hex()})")
    if len(raw) != 4 + 8 + 64:
        raise CosignatureError(f"{who}: a cosignature/v1 has 76 bytes, this one {len(raw)}")
    (timestamp,) = struct.unpack(">Q", raw[4:12])
    if timestamp > MAX_TIMESTAMP:
        raise CosignatureError(f"{who}: timestamp {timestamp} exceeds 2^63-1")
    try:
        key.public_key.verify(raw[12:], cosigned_message(body, timestamp))
    except InvalidSignature:
        raise CosignatureError(f"{who}: the cosignature does not verify over this checkpoint "
                               "(signed over other text, or forged)") from None
    if not_after is not None and timestamp > not_after:
        raise CosignatureError(f"{who}: the cosignature is dated {timestamp}, in the future")
    return Cosignature(key.name, key.key_id, timestamp, line)


def note_body(note: str) -> str:
    """The signed text of a note (everything before the blank line, with its newline)."""
    text, sep, _ = note.rpartition("\n\n")
    if not sep:
        raise CheckpointError("signed note has no blank line before its signatures")
    return text + "\n"


def signature_lines(note: str) -> list[str]:
    """The note's signature lines, without their newlines."""
    _, sep, tail = note.rpartition("\n\n")
    if not sep or not tail.endswith("\n"):
        raise CheckpointError("signed note must end with signature lines and a newline")
    return tail[:-1].split("\n")


def add_signature_lines(note: str, lines: list[str]) -> str:
    """*note* with *lines* appended (lines it already carries are not repeated)."""
    present = set(signature_lines(note))
    extra = [line for line in lines if line not in present]
    return note + "".join(f"{line}\n" for line in extra)


def parse_vkey(text: str) -> WitnessKey:
    """A witness verifier key `name+keyid+base64(0x04 ‖ key)`; `CosignatureError` says
    which part is wrong."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise CosignatureError(f"witness key {text!r}: expected name+keyid+base64 key")
    name, key_hash, blob = parts
    _check_name(name)
    try:
        raw = base64.b64decode(blob, validate=True)
    except binascii.Error:
        raise CosignatureError(f"witness key {name}: the key is not base64") from None
    if len(raw) != 33 or raw[0] != COSIGNATURE_TYPE:
        raise CosignatureError(f"witness key {name}: expected 0x04 and a 32-byte Ed25519 key "
                               "(a cosignature/v1 key)")
    key = WitnessKey(name, Ed25519PublicKey.from_public_bytes(raw[1:]))
    if key.key_id.hex() != key_hash.lower():
        raise CosignatureError(f"witness key {name}: key id {key_hash} does not match the key "
                               f"({key.key_id.hex()})")
    return key


def generate_witness_key(path: Path, name: str) -> WitnessSigner:
    """Write a new witness key to *path* (mode 0600, refusing to overwrite)."""
    signer = WitnessSigner(_check_name(name), Ed25519PrivateKey.generate())
    seed = signer.private_key.private_bytes_raw()
    text = (f"{_PRIVATE_PREFIX}{name}+{signer.public.key_id.hex()}+"
            f"{base64.b64encode(bytes([COSIGNATURE_TYPE]) + seed).decode()}\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(text)
        os.link(tmp, path)  # fails if the key exists: a witness key is never replaced
    finally:
        Path(tmp).unlink(missing_ok=True)
    return signer


def load_witness_signer(path: Path) -> WitnessSigner:
    """The witness key in *path*; `CosignatureError` names the file and the problem."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise CosignatureError(f"--key {path}: cannot read ({exc})") from None
    parts = text.removeprefix(_PRIVATE_PREFIX).split("+", 2)
    if not text.startswith(_PRIVATE_PREFIX) or len(parts) != 3:
        raise CosignatureError(f"--key {path}: not a witness key "
                               "(PRIVATE+KEY+name+keyid+base64)")
    name, key_hash, blob = parts
    try:
        raw = base64.b64decode(blob, validate=True)
    except binascii.Error:
        raise CosignatureError(f"--key {path}: the key is not base64") from None
    if len(raw) != 33 or raw[0] != COSIGNATURE_TYPE:
        raise CosignatureError(f"--key {path}: expected 0x04 and a 32-byte Ed25519 seed")
    signer = WitnessSigner(_check_name(name), Ed25519PrivateKey.from_private_bytes(raw[1:]))
    if signer.public.key_id.hex() != key_hash.lower():
        raise CosignatureError(f"--key {path}: key id {key_hash} does not match the key")
    return signer
