"""RFC 8785 (JSON Canonicalization Scheme) bytes for log records.

A log leaf is the canonical JSON of a record, so the same record always hashes to the
same leaf no matter which program serialised it. Only plain JSON values are accepted;
callers convert datetimes, decimals, UUIDs etc. themselves (``utc_timestamp`` helps with
the one conversion every record needs), because any implicit conversion here would be a
second, undocumented canonical form.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import rfc8785

__all__ = ["MAX_SAFE_INTEGER", "CanonicalizationError", "canonical_bytes", "utc_timestamp"]

# JCS serialises numbers as IEEE 754 doubles; larger integers would silently lose digits.
MAX_SAFE_INTEGER = 2**53 - 1


class CanonicalizationError(ValueError):
    """The object cannot be represented as RFC 8785 canonical JSON."""


def canonical_bytes(obj: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 JSON encoding of *obj*.

    Accepts dict (str keys), list, tuple, str, int (|n| ≤ 2**53-1), finite float, bool
    and None. Anything else raises ``CanonicalizationError`` naming the JSON path.
    """
    # Validate first: rfc8785 accepts some things we do not want (e.g. int/str
    # subclasses such as enums, whose meaning would depend on Python), and its own
    # errors do not say where in a large record the bad value sits.
    try:
        plain = _check(obj, "$")
        if plain:
            # Without floats and with keys inside the Basic Multilingual Plane, the C
            # json encoder writes exactly the RFC 8785 bytes (same escapes, lowercase
            # \u00xx, and code-point key order equals UTF-16 order), ~10x faster than
            # rfc8785's pure-Python encoder; verifying a large log re-encodes every
            # record. tests/ledger/test_canonical.py checks the equality by property.
            return json.dumps(
                obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")
            ).encode("utf-8")
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError) as exc:
        raise CanonicalizationError(f"cannot canonicalise: {exc}") from None
    except RecursionError:
        raise CanonicalizationError("value is nested too deeply") from None


def utc_timestamp(value: datetime) -> str:
    """ISO 8601 UTC string with millisecond precision and a ``Z`` suffix.

    Sub-millisecond digits are truncated (not rounded) so the result never lies in the
    future of the instant it describes. Naive datetimes are refused: their meaning
    depends on the machine that made them.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise CanonicalizationError("naive datetime: attach a timezone (UTC) first")
    utc = value.astimezone(UTC)
    utc = utc - timedelta(microseconds=utc.microsecond % 1000)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _check(obj: Any, path: str) -> bool:
    """Validate *obj*; return True when it has no float and no key outside the BMP (the
    values for which the fast encoder is exact)."""
    kind = type(obj)
    if obj is None or kind is bool:
        return True
    if kind is str:
        _check_text(obj, path)
        return True
    if kind is int:
        if abs(obj) > MAX_SAFE_INTEGER:
            raise CanonicalizationError(
                f"{path}: integer {obj} is outside ±(2**53-1); store it as a string"
            )
        return True
    if kind is float:
        if not math.isfinite(obj):
            raise CanonicalizationError(f"{path}: {obj!r} is not representable in JSON")
        return False
    if kind is dict:
        plain = True
        for key, value in obj.items():
            if type(key) is not str:
                raise CanonicalizationError(
                    f"{path}: object key {key!r} is {type(key).__name__}, must be str"
                )
            _check_text(key, f"{path} key {key!r}")
            if not _check(value, f"{path}.{key}") or (key and max(key) > "\uffff"):
                plain = False
        return plain
    if kind is list or kind is tuple:
        plain = True
        for i, value in enumerate(obj):
            if not _check(value, f"{path}[{i}]"):
                plain = False
        return plain
    hint = " (convert with utc_timestamp())" if isinstance(obj, datetime) else ""
    raise CanonicalizationError(
        f"{path}: unsupported type {kind.__name__}; convert it to a JSON value first{hint}"
    )


def _check_text(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalizationError(f"{path}: string contains a lone surrogate") from None
