"""RFC 8785 canonical bytes: what leaves are made of."""

from __future__ import annotations

import decimal
from datetime import UTC, datetime, timedelta, timezone

import pytest

from ledger.canonical import CanonicalizationError, canonical_bytes, utc_timestamp


def test_key_order_whitespace_and_unicode_are_canonical() -> None:
    record = {"b": [1, 2.5, None, True], "a": "Ä€\u2028", "\u00e9": {"z": 1, "y": -0.0}}
    assert canonical_bytes(record) == (
        '{"a":"Ä€\u2028","b":[1,2.5,null,true],"é":{"y":0,"z":1}}'.encode()
    )
    # Same content, different construction order: same bytes, so the same leaf.
    assert canonical_bytes(dict(reversed(list(record.items())))) == canonical_bytes(record)
    assert canonical_bytes((1, "x")) == b'[1,"x"]'


def test_rfc8785_number_serialisation() -> None:
    # Values from RFC 8785 appendix B.
    assert canonical_bytes([1e30, 4.5, 0.002, 1e-27, 333333333.3333333]) == (
        b"[1e+30,4.5,0.002,1e-27,333333333.3333333]"
    )


def _nested(depth: int) -> dict[str, object]:
    value: dict[str, object] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {"when": datetime(2025, 1, 1, tzinfo=UTC)},
            r"\$\.when: unsupported type datetime.*utc_timestamp",
        ),
        ({"n": [1, decimal.Decimal("1.5")]}, r"\$\.n\[1\]: unsupported type Decimal"),
        ({"blob": b"x"}, r"\$\.blob: unsupported type bytes"),
        ({1: "x"}, r"key 1 is int, must be str"),
        ({"big": 2**53}, r"\$\.big: integer .* outside"),
        ({"f": float("nan")}, r"\$\.f: nan"),
        ({"s": "\ud800"}, r"lone surrogate"),
        ({"set": {1}}, r"unsupported type set"),
        (_nested(5000), r"nested too deeply"),
    ],
)
def test_unsupported_values_are_refused_with_their_path(value: object, message: str) -> None:
    with pytest.raises(CanonicalizationError, match=message):
        canonical_bytes(value)


def test_utc_timestamp() -> None:
    cet = timezone(timedelta(hours=1))
    assert utc_timestamp(datetime(2025, 3, 14, 10, 26, 53, 589999, tzinfo=cet)) == (
        "2025-03-14T09:26:53.589Z"
    )
    assert utc_timestamp(datetime(2025, 1, 1, tzinfo=UTC)) == "2025-01-01T00:00:00.000Z"
    with pytest.raises(CanonicalizationError, match="naive"):
        utc_timestamp(datetime(2025, 1, 1))
