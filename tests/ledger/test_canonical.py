"""RFC 8785 canonical bytes: what leaves are made of."""

from __future__ import annotations

import decimal
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

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


_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)  # no lone surrogates
_scalars = (st.none() | st.booleans() | _text | st.floats(allow_nan=False, allow_infinity=False)
            | st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1))
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=500, deadline=None)
@given(_json)
def test_canonical_bytes_are_exactly_rfc8785(value: Any) -> None:
    # Covers both encoders: the fast path (no floats, BMP keys) and rfc8785 itself.
    assert canonical_bytes(value) == rfc8785.dumps(value)


@pytest.mark.parametrize("key", ["\U0001f600", "\uffff", "\ue000", "a\U00010000"])
def test_key_order_follows_utf16_code_units(key: str) -> None:
    # U+E000..U+FFFF sort after non-BMP characters in UTF-16 but before them by code point.
    value: dict[str, Any] = {
        key: 1, "\uffee": 2, "\U0001f600x": 3, "\x7f": 4, "\u2028": "\x00\x1f\"\\",
    }
    assert canonical_bytes(value) == rfc8785.dumps(value)
