"""C2SP tlog-cosignature/v1: the signed message and line byte for byte, verifier keys, key
files, and the refusals (another key, another text, a time in the future)."""

from __future__ import annotations

import base64
import hashlib
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.checkpoint import checkpoint_text, sign_note, verify_note
from ledger.cosignature import (
    CosignatureError,
    WitnessSigner,
    add_signature_lines,
    cosign,
    cosigned_message,
    generate_witness_key,
    load_witness_signer,
    note_body,
    parse_vkey,
    verify_cosignature,
)

ORIGIN = "example.gov.cn/dueprocess"
BODY = checkpoint_text(ORIGIN, 20852163, bytes(range(32)))


@pytest.fixture
def signer() -> WitnessSigner:
    return WitnessSigner("witness.example/w1", Ed25519PrivateKey.generate())


def test_the_line_is_key_id_timestamp_and_signature_over_the_spec_message(
        signer: WitnessSigner) -> None:
    line = cosign(BODY, signer, timestamp=1679315147)
    name, blob = line.removeprefix("\u2014 ").split(" ")
    raw = base64.b64decode(blob)
    pub = signer.private_key.public_key().public_bytes_raw()
    assert name == "witness.example/w1" and len(raw) == 76
    assert raw[:4] == hashlib.sha256(b"witness.example/w1\n\x04" + pub).digest()[:4]
    assert struct.unpack(">Q", raw[4:12]) == (1679315147,)
    message = ("cosignature/v1\ntime 1679315147\n" + BODY).encode()
    assert cosigned_message(BODY, 1679315147) == message
    signer.private_key.public_key().verify(raw[12:], message)  # raises if not


def test_a_cosignature_verifies_and_refusals_name_the_reason(signer: WitnessSigner) -> None:
    key = signer.public
    line = cosign(BODY, signer, timestamp=1_700_000_000)
    assert verify_cosignature(BODY, line, key).timestamp == 1_700_000_000
    other = WitnessSigner("witness.example/w1", Ed25519PrivateKey.generate())
    with pytest.raises(CosignatureError, match="not by this witness's key"):
        verify_cosignature(BODY, cosign(BODY, other, timestamp=1), key)
    with pytest.raises(CosignatureError, match="does not verify over this checkpoint"):
        verify_cosignature(BODY.replace("20852163", "20852164"), line, key)
    with pytest.raises(CosignatureError, match="in the future"):
        verify_cosignature(BODY, line, key, not_after=1_699_999_999)
    forged = line[:-8] + ("A" if line[-8] != "A" else "B") + line[-7:]
    with pytest.raises(CosignatureError, match="does not verify"):
        verify_cosignature(BODY, forged, key)


def test_a_plain_note_signature_by_the_same_key_is_not_a_cosignature(
        signer: WitnessSigner) -> None:
    # Algorithm byte 0x01 gives another key id than 0x04: a note signature never counts.
    note = sign_note(BODY, signer.name, signer.private_key)
    line = note.rsplit("\n\n", 1)[1].rstrip("\n")
    with pytest.raises(CosignatureError, match="not by this witness's key"):
        verify_cosignature(BODY, line, signer.public)


def test_the_log_still_verifies_a_cosigned_note(signer: WitnessSigner) -> None:
    log = Ed25519PrivateKey.generate()
    note = sign_note(BODY, ORIGIN, log)
    cosigned = add_signature_lines(note, [cosign(BODY, signer, timestamp=5)])
    assert add_signature_lines(cosigned, [cosign(BODY, signer, timestamp=5)]) == cosigned
    assert verify_note(cosigned, ORIGIN, log.public_key()) == BODY
    assert note_body(cosigned) == BODY


def test_vkeys_round_trip_and_bad_ones_are_named(signer: WitnessSigner) -> None:
    vkey = signer.public.vkey()
    name, key_id, blob = vkey.split("+", 2)
    assert (name, key_id) == (signer.name, signer.public.key_id.hex())
    assert base64.b64decode(blob)[0] == 4
    assert parse_vkey(vkey).key_id == signer.public.key_id
    with pytest.raises(CosignatureError, match="does not match the key"):
        parse_vkey(f"{name}+00000000+{blob}")
    plain = base64.b64encode(b"\x01" + base64.b64decode(blob)[1:]).decode()
    with pytest.raises(CosignatureError, match="cosignature/v1 key"):
        parse_vkey(f"{name}+{key_id}+{plain}")
    with pytest.raises(CosignatureError, match="expected name\\+keyid\\+base64"):
        parse_vkey("just-a-name")


def test_key_files_are_private_never_overwritten_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "w1.key"
    made = generate_witness_key(path, "witness.example/w1")
    assert path.stat().st_mode & 0o077 == 0
    assert load_witness_signer(path).public.vkey() == made.public.vkey()
    with pytest.raises(FileExistsError):
        generate_witness_key(path, "witness.example/w1")
    path.write_text(path.read_text().replace("witness.example/w1", "witness.example/w2"))
    with pytest.raises(CosignatureError, match="does not match the key"):
        load_witness_signer(path)
    with pytest.raises(CosignatureError, match="no spaces"):
        generate_witness_key(tmp_path / "bad.key", "a b")
