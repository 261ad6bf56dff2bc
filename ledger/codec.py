"""Strict text encodings for hashes, proofs and signatures.

Every binary value that crosses a file boundary (tree heads, dossier manifests) is
standard base64 with padding (RFC 4648 §4), as in the RFC 6962 test vectors. Decoding
is strict: only the canonical encoding of a byte string is accepted, so one value has
exactly one spelling and a signed string cannot be re-spelled behind the signer's back.
"""

from __future__ import annotations

import base64
import binascii

__all__ = ["b64decode", "b64encode"]


def b64encode(data: bytes) -> str:
    """Standard base64 with padding."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, *, what: str = "value", length: int | None = None) -> bytes:
    """Decode canonical standard base64, raising ``ValueError`` naming *what* on failure.

    *length*, when given, is the exact number of decoded bytes required.
    """
    if not isinstance(text, str):
        raise ValueError(f"{what}: expected a base64 string, got {type(text).__name__}")
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(f"{what}: not valid base64 ({exc})") from None
    # Non-zero padding bits decode fine but re-encode differently; refuse them.
    if base64.b64encode(data).decode("ascii") != text:
        raise ValueError(f"{what}: not canonical base64")
    if length is not None and len(data) != length:
        raise ValueError(f"{what}: expected {length} bytes, got {len(data)}")
    return data
