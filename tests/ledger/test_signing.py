"""Ed25519 signing keys and signed tree heads."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from ledger.signing import (
    SignatureError,
    SignedTreeHead,
    SigningKeyError,
    key_id,
    load_or_create_signing_key,
    load_public_key,
    public_key_pem,
    sign_tree_head,
    tree_head_message,
    verify_tree_head,
)

ROOT = hashlib.sha256(b"root").digest()
WHEN = datetime(2025, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)


def test_key_file_is_created_private_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "log-key.pem"
    key, created = load_or_create_signing_key(path)
    assert created
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert list(path.parent.iterdir()) == [path]  # no temp file left behind
    again, created_again = load_or_create_signing_key(path)
    assert not created_again
    assert public_key_pem(again) == public_key_pem(key)


def test_concurrent_creator_wins_and_its_key_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, other_key: Ed25519PrivateKey
) -> None:
    path = tmp_path / "log-key.pem"
    pem = other_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )

    def racing_link(src: str, dst: Path) -> None:
        Path(dst).write_bytes(pem)  # another process got there first
        raise FileExistsError(dst)

    monkeypatch.setattr("ledger.signing.os.link", racing_link)
    key, created = load_or_create_signing_key(path)
    assert not created
    assert public_key_pem(key) == public_key_pem(other_key)
    assert list(tmp_path.iterdir()) == [path]


def test_key_file_of_wrong_kind_or_garbage_is_a_clear_error(tmp_path: Path) -> None:
    ec = generate_private_key(SECP256R1())
    path = tmp_path / "ec.pem"
    path.write_bytes(
        ec.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(SigningKeyError, match="expected an Ed25519 key"):
        load_or_create_signing_key(path)
    path.write_bytes(b"not a key")
    with pytest.raises(SigningKeyError, match="not a readable"):
        load_or_create_signing_key(path)


def test_key_id_is_sha256_of_raw_public_key(key: Ed25519PrivateKey) -> None:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert key_id(key) == hashlib.sha256(raw).hexdigest()
    assert key_id(key.public_key()) == key_id(key)


def test_signed_message_is_canonical_json_of_four_fields(key: Ed25519PrivateKey) -> None:
    sth = sign_tree_head(key, tree_size=7, root_hash=ROOT, timestamp=WHEN)
    assert sth.timestamp == datetime(2025, 3, 14, 9, 26, 53, 589000, tzinfo=UTC)  # truncated
    expected = (
        f'{{"key_id":"{key_id(key)}","root_hash":"{sth.root_hash}",'
        '"timestamp":"2025-03-14T09:26:53.589Z","tree_size":7}'
    ).encode()
    assert tree_head_message(sth) == expected
    # Checkable with nothing but the raw Ed25519 primitive.
    key.public_key().verify(base64.b64decode(sth.signature), expected)


def test_round_trip_through_json_still_verifies(key: Ed25519PrivateKey) -> None:
    sth = sign_tree_head(key, tree_size=7, root_hash=ROOT, timestamp=WHEN)
    text = sth.model_dump_json()
    assert json.loads(text)["timestamp"] == "2025-03-14T09:26:53.589Z"
    again = SignedTreeHead.model_validate_json(text)
    assert again == sth
    verify_tree_head(again, public_key_pem(key))


def test_non_utc_timestamp_is_normalised(key: Ed25519PrivateKey) -> None:
    cet = timezone(timedelta(hours=1))
    sth = sign_tree_head(key, tree_size=1, root_hash=ROOT, timestamp=WHEN.astimezone(cet))
    assert sth.timestamp.utcoffset() == timedelta(0)
    verify_tree_head(sth, public_key_pem(key))
    with pytest.raises(ValueError, match="naive"):
        sign_tree_head(key, tree_size=1, root_hash=ROOT, timestamp=datetime(2025, 1, 1))


@pytest.mark.parametrize(
    "change",
    [
        {"tree_size": 8},
        {"root_hash": "A" * 43 + "="},
        {"timestamp": "2025-03-14T09:26:53.590Z"},
    ],
)
def test_altered_head_fails(key: Ed25519PrivateKey, change: dict[str, object]) -> None:
    sth = sign_tree_head(key, tree_size=7, root_hash=ROOT, timestamp=WHEN)
    forged = SignedTreeHead.model_validate({**sth.model_dump(mode="json"), **change})
    with pytest.raises(SignatureError, match="does not verify"):
        verify_tree_head(forged, public_key_pem(key))


def test_head_signed_by_another_key_fails(
    key: Ed25519PrivateKey, other_key: Ed25519PrivateKey
) -> None:
    forged = sign_tree_head(other_key, tree_size=7, root_hash=ROOT, timestamp=WHEN)
    with pytest.raises(SignatureError, match="names signing key"):
        verify_tree_head(forged, public_key_pem(key))
    # Even claiming the right key id does not help the forger.
    relabelled = forged.model_copy(update={"key_id": key_id(key)})
    with pytest.raises(SignatureError, match="does not verify"):
        verify_tree_head(relabelled, public_key_pem(key))
    with pytest.raises(SignatureError, match="not a readable PEM"):
        verify_tree_head(forged, b"garbage")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timestamp", "2025-03-14T09:26:53.589+00:00", "must look like"),
        ("timestamp", "2025-03-14T09:26:53Z", "must look like"),
        ("root_hash", "not base64!", "not valid base64"),
        ("root_hash", "AAAA", "expected 32 bytes"),
        ("signature", "AAAA", "expected 64 bytes"),
        ("tree_size", "7", "valid integer"),
        ("tree_size", -1, "greater than or equal"),
        ("key_id", "ABC", "pattern"),
    ],
)
def test_malformed_heads_are_rejected(
    key: Ed25519PrivateKey, field: str, value: object, message: str
) -> None:
    good = sign_tree_head(key, tree_size=7, root_hash=ROOT, timestamp=WHEN).model_dump(mode="json")
    with pytest.raises(ValidationError, match=message):
        SignedTreeHead.model_validate({**good, field: value})


def test_a_damaged_algorithm_identifier_is_an_unreadable_key() -> None:
    # Found by the dossier's byte-damage property test: the OID 1.3.101.112 with its first
    # byte changed reads as "Unknown key type 0.39.101.112", which cryptography raises as
    # UnsupportedAlgorithm, not ValueError.
    der = bytearray(base64.b64decode(b"".join(
        public_key_pem(Ed25519PrivateKey.generate()).splitlines()[1:-1])))
    der[der.index(bytes([0x2B, 0x65, 0x70]))] = 0x27
    pem = (b"-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(bytes(der))
           + b"\n-----END PUBLIC KEY-----\n")
    with pytest.raises(SigningKeyError, match="not a readable PEM public key"):
        load_public_key(pem)
