"""Ed25519 signed tree heads (STH): the log operator's dated commitment to a root.

The signed message is the RFC 8785 canonical JSON of exactly four fields::

    {"key_id": <hex>, "root_hash": <base64>, "timestamp": "YYYY-MM-DDTHH:MM:SS.mmmZ",
     "tree_size": <int>}

so anyone with a JCS implementation (or by writing those bytes by hand) can check a
signature. ``key_id`` is the hex SHA-256 of the 32-byte raw public key; it is inside the
signed message so a head cannot be re-attributed to another key.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from ledger.canonical import MAX_SAFE_INTEGER, canonical_bytes, utc_timestamp
from ledger.codec import b64decode, b64encode
from ledger.merkle import HASH_SIZE

__all__ = [
    "SignatureError",
    "SignedTreeHead",
    "SigningKeyError",
    "key_id",
    "load_or_create_signing_key",
    "load_public_key",
    "public_key_pem",
    "sign_tree_head",
    "tree_head_message",
    "verify_tree_head",
]

_TIMESTAMP_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
_KEY_ID_RE = r"^[0-9a-f]{64}$"


class SignatureError(ValueError):
    """A tree head's signature is forged, altered, or made by a different key."""


class SigningKeyError(ValueError):
    """A key file or PEM blob is unreadable or not an Ed25519 key."""


def load_or_create_signing_key(path: Path) -> tuple[Ed25519PrivateKey, bool]:
    """Load the Ed25519 key at *path*, or create it there (PKCS#8 PEM, mode 0600).

    Returns ``(key, created)``; callers should tell the operator where a new key was
    written, since losing it means no further heads can be signed under this identity.
    """
    path = Path(path)
    if path.exists():
        return _load_private_key(path), False
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Write a private temp file, then hard-link it into place: the key file either
    # appears complete with 0600 or not at all, and a concurrent creator cannot be
    # overwritten (link fails if the name exists).
    fd, tmp = tempfile.mkstemp(prefix=".key-", dir=path.parent)  # mkstemp → 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return _load_private_key(path), False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return key, True


def _load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(
            f"{path}: not a readable unencrypted PEM private key ({exc})"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path}: expected an Ed25519 key, found {type(key).__name__}")
    return key


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM of the (public half of the) key."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """Parse an Ed25519 public key from SubjectPublicKeyInfo PEM."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        # A damaged algorithm identifier is "unsupported", not a ValueError.
        raise SigningKeyError(f"not a readable PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"expected an Ed25519 public key, found {type(key).__name__}")
    return key


def key_id(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """Hex SHA-256 of the 32-byte raw public key."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


class SignedTreeHead(BaseModel):
    """A signed (tree size, root hash, time) triple; JSON form is the wire format."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tree_size: Annotated[int, Field(strict=True, ge=0, le=MAX_SAFE_INTEGER)]
    root_hash: str
    timestamp: datetime
    key_id: Annotated[str, Field(strict=True, pattern=_KEY_ID_RE)]
    signature: str

    @field_validator("root_hash")
    @classmethod
    def _root_is_hash(cls, value: str) -> str:
        b64decode(value, what="root_hash", length=HASH_SIZE)
        return value

    @field_validator("signature")
    @classmethod
    def _signature_shape(cls, value: str) -> str:
        b64decode(value, what="signature", length=64)
        return value

    @field_validator("timestamp", mode="before")
    @classmethod
    def _timestamp_exact(cls, value: Any) -> Any:
        # The signed message carries the timestamp in one spelling only; accepting
        # other spellings would let two different files carry "the same" signed head.
        if isinstance(value, str) and not _TIMESTAMP_RE.fullmatch(value):
            raise ValueError("timestamp must look like 2024-01-31T12:00:00.000Z (UTC, ms)")
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError("timestamp must be timezone-aware (UTC)")
            if value.microsecond % 1000:
                raise ValueError("timestamp must have millisecond precision")
        return value

    @field_validator("timestamp")
    @classmethod
    def _timestamp_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @field_serializer("timestamp")
    def _timestamp_text(self, value: datetime) -> str:
        return utc_timestamp(value)

    @property
    def root_hash_bytes(self) -> bytes:
        return b64decode(self.root_hash, what="root_hash", length=HASH_SIZE)


def _message(*, tree_size: int, root_hash: str, timestamp: datetime, key_id: str) -> bytes:
    return canonical_bytes(
        {
            "tree_size": tree_size,
            "root_hash": root_hash,
            "timestamp": utc_timestamp(timestamp),
            "key_id": key_id,
        }
    )


def tree_head_message(sth: SignedTreeHead) -> bytes:
    """The exact bytes the signature of *sth* covers."""
    return _message(
        tree_size=sth.tree_size,
        root_hash=sth.root_hash,
        timestamp=sth.timestamp,
        key_id=sth.key_id,
    )


def sign_tree_head(
    key: Ed25519PrivateKey, *, tree_size: int, root_hash: bytes, timestamp: datetime
) -> SignedTreeHead:
    """Sign a tree head. *timestamp* must be timezone-aware; it is truncated to ms."""
    if len(root_hash) != HASH_SIZE:
        raise ValueError(f"root_hash must be {HASH_SIZE} bytes")
    if tree_size < 0:
        raise ValueError("tree_size must not be negative")
    when = datetime.fromisoformat(utc_timestamp(timestamp).replace("Z", "+00:00"))
    kid = key_id(key)
    root_b64 = b64encode(root_hash)
    message = _message(tree_size=tree_size, root_hash=root_b64, timestamp=when, key_id=kid)
    return SignedTreeHead(
        tree_size=tree_size,
        root_hash=root_b64,
        timestamp=when,
        key_id=kid,
        signature=b64encode(key.sign(message)),
    )


def verify_tree_head(sth: SignedTreeHead, public_key_pem: bytes) -> None:
    """Raise ``SignatureError`` unless *sth* is signed by the key in *public_key_pem*."""
    try:
        public = load_public_key(public_key_pem)
    except SigningKeyError as exc:
        raise SignatureError(str(exc)) from None
    expected = key_id(public)
    if sth.key_id != expected:
        raise SignatureError(
            f"tree head names signing key {sth.key_id[:16]}…, "
            f"but the verifying key is {expected[:16]}…"
        )
    try:
        public.verify(b64decode(sth.signature, what="signature"), tree_head_message(sth))
    except (InvalidSignature, ValueError):
        raise SignatureError(
            f"signature on tree head (size {sth.tree_size}) does not verify: "
            "the head was altered or signed by another key"
        ) from None
