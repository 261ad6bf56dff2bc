"""Ed25519 keys and signatures of experts' written opinions (Decree 713 Art. 19).

A registered key is kept as the base64 of its 32 public bytes; PEM is accepted on input.
Plain functions with no database, so the gate rules can verify signatures themselves.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class KeyProblem(ValueError):
    """A public or private key that cannot be used, with the reason."""


def public_key_text(value: str) -> str:
    """Normalise a PEM or base64 Ed25519 public key to base64 of its 32 raw bytes."""
    value = value.strip()
    if value.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(value.encode())
        except ValueError as exc:
            raise KeyProblem(f"not a PEM public key: {exc}") from None
        if not isinstance(key, Ed25519PublicKey):
            raise KeyProblem("the PEM key is not an Ed25519 public key")
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    else:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise KeyProblem("not base64 and not PEM") from None
        if len(raw) != 32:
            raise KeyProblem(f"an Ed25519 public key has 32 bytes, this one {len(raw)}")
    return base64.b64encode(raw).decode()


def fingerprint(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def key_fingerprint(public_key_b64: str) -> str:
    return fingerprint(base64.b64decode(public_key_b64))


def verify(public_key_b64: str, message: bytes, signature_b64: str) -> bool:
    """True when `signature_b64` is a valid Ed25519 signature of `message` by the key."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
        key.verify(signature, message)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyProblem(f"not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyProblem("the PEM key is not an Ed25519 private key")
    return key


def sign(private_key: Ed25519PrivateKey, message: bytes) -> str:
    return base64.b64encode(private_key.sign(message)).decode()


def public_key_of(private_key: Ed25519PrivateKey) -> str:
    raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(raw).decode()
