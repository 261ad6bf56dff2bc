"""C2SP `tlog-checkpoint` in a C2SP `signed-note`: the log's tree heads as witnesses read them.

A checkpoint is three lines, the log's origin, the tree size in decimal and the base64
RFC 6962 root hash, each ending in a newline (extension lines may follow; this log writes
none). A signed note is that text, a blank line, and one signature line per signer::

    — <key name> base64(key ID ‖ Ed25519 signature over the text)

The Ed25519 key ID is the first 4 bytes of SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key).
Verifiers ignore signatures by keys they do not know. Following these formats lets the
Go witnesses of transparency-dev cosign this log's checkpoints.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.merkle import HASH_SIZE

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "checkpoint_text",
    "log_vkey",
    "note_key_id",
    "parse_checkpoint",
    "sign_note",
    "verify_note",
]

ED25519_TYPE = b"\x01"
SIGNATURE_PREFIX = "\u2014 "  # EM DASH, space
MAX_SIGNATURES = 16
_NAME_RE = re.compile(r"^[^\s+]+$")  # no whitespace, no plus sign


class CheckpointError(ValueError):
    """A checkpoint or signed note is malformed or its signature does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def note_key_id(name: str, key: Ed25519PublicKey) -> bytes:
    """The 4-byte key ID of an Ed25519 note key."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519_TYPE + _raw(key)).digest()[:4]


def log_vkey(origin: str, key: Ed25519PublicKey) -> str:
    """The log's C2SP note verifier key: origin+keyid+base64(0x01 ‖ public key), the form
    Go's note.NewVerifier and witnesses take."""
    blob = base64.b64encode(ED25519_TYPE + _raw(key)).decode()
    return f"{origin}+{note_key_id(origin, key).hex()}+{blob}"


def checkpoint_text(origin: str, tree_size: int, root_hash: bytes) -> str:
    """The checkpoint body (the signed text)."""
    if not origin or "\n" in origin or origin != origin.strip():
        raise CheckpointError("origin must be one non-empty line without outer spaces")
    if tree_size < 0 or len(root_hash) != HASH_SIZE:
        raise CheckpointError("tree size must be >= 0 and the root 32 bytes")
    return f"{origin}\n{tree_size}\n{base64.b64encode(root_hash).decode()}\n"


def sign_note(text: str, name: str, key: Ed25519PrivateKey) -> str:
    """*text* as a signed note with one signature by *key* under *name*."""
    if not _NAME_RE.match(name):
        raise CheckpointError(f"key name {name!r} must have no spaces or plus signs")
    signature = key.sign(text.encode())
    blob = base64.b64encode(note_key_id(name, key.public_key()) + signature).decode()
    return f"{text}\n{SIGNATURE_PREFIX}{name} {blob}\n"


def verify_note(note: str, name: str, key: Ed25519PublicKey) -> str:
    """The text of *note* if *key* (named *name*) signed it; `CheckpointError` otherwise."""
    text, sep, signatures = note.rpartition("\n\n")
    if not sep:
        raise CheckpointError("signed note has no blank line before its signatures")
    text += "\n"
    lines = signatures.split("\n")
    if lines[-1] != "" or len(lines) < 2:
        raise CheckpointError("signed note must end with a newline after its signatures")
    if len(lines) - 1 > MAX_SIGNATURES:
        raise CheckpointError(f"signed note has more than {MAX_SIGNATURES} signatures")
    wanted = note_key_id(name, key)
    for line in lines[:-1]:
        if not line.startswith(SIGNATURE_PREFIX):
            raise CheckpointError(f"signature line {line[:40]!r} does not start with an em dash")
        signer, _, blob = line[len(SIGNATURE_PREFIX):].partition(" ")
        try:
            raw = base64.b64decode(blob, validate=True)
        except binascii.Error:
            raise CheckpointError(f"signature of {signer!r} is not base64") from None
        if signer != name or raw[:4] != wanted:
            continue  # someone else's signature (a witness's cosignature): not ours to judge
        try:
            key.verify(raw[4:], text.encode())
        except InvalidSignature:
            raise CheckpointError(f"the signature of {name!r} does not verify") from None
        return text
    raise CheckpointError(f"the note carries no signature by {name!r} with the log's key")


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint body (`CheckpointError` names the bad line)."""
    if not text.endswith("\n"):
        raise CheckpointError("checkpoint must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("checkpoint needs origin, tree size and root hash lines")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise CheckpointError("checkpoint origin line is empty")
    if not re.fullmatch(r"0|[1-9][0-9]{0,18}", size_text):
        raise CheckpointError(f"checkpoint tree size {size_text!r} is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise CheckpointError("checkpoint root hash is not base64") from None
    if len(root) != HASH_SIZE:
        raise CheckpointError(f"checkpoint root hash has {len(root)} bytes, not {HASH_SIZE}")
    if any(not line for line in extensions):
        raise CheckpointError("checkpoint has an empty extension line")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))
