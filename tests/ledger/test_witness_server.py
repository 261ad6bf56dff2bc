"""The C2SP tlog-witness API, served by real uvicorn on loopback: every status the spec
gives, the cosignature it returns, and the extension that reads back what it cosigned."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.checkpoint import checkpoint_text, log_vkey, sign_note, verify_note
from ledger.cosignature import (
    WitnessSigner,
    note_body,
    signature_lines,
    verify_cosignature,
)
from ledger.merkle import MerkleTree, leaf_hash
from ledger.witness_server import MAX_BODY, WitnessService, parse_log_vkey, witness_app
from tests.browser import served

ORIGIN = "example.gov.cn/dueprocess"
LOG_KEY = Ed25519PrivateKey.generate()
HASHES = [leaf_hash(f"record {i}".encode()) for i in range(8)]


def tree(size: int) -> MerkleTree:
    return MerkleTree(HASHES[:size])


def note(size: int, *, key: Ed25519PrivateKey = LOG_KEY, origin: str = ORIGIN) -> str:
    return sign_note(checkpoint_text(origin, size, tree(size).root), origin, key)


def body(old: int, new: int, *, proof: list[bytes] | None = None, text: str | None = None
         ) -> bytes:
    if proof is None:
        proof = tree(new).consistency_proof(old) if 0 < old < new else []
    lines = "".join(base64.b64encode(p).decode() + "\n" for p in proof)
    return f"old {old}\n{lines}\n{text or note(new)}".encode()


@pytest.fixture
def signer() -> WitnessSigner:
    return WitnessSigner("witness.example/w1", Ed25519PrivateKey.generate())


@pytest.fixture
def witness(tmp_path: Path, signer: WitnessSigner) -> Iterator[str]:
    origin, key = parse_log_vkey(log_vkey(ORIGIN, LOG_KEY.public_key()))
    service = WitnessService(signer=signer, state_path=tmp_path / "state.json",
                             logs={origin: key})
    yield from served(witness_app(service))


def post(url: str, data: bytes) -> httpx.Response:
    return httpx.post(f"{url}/add-checkpoint", content=data)


def test_the_witness_cosigns_extensions_and_says_what_it_holds(
        witness: str, signer: WitnessSigner) -> None:
    first = post(witness, body(0, 3))
    assert first.status_code == 200, first.text
    (line,) = first.text.splitlines()
    assert verify_cosignature(note_body(note(3)), line, signer.public).witness == signer.name

    stale = post(witness, body(0, 5))  # it holds 3: the spec's 409 names the size
    assert (stale.status_code, stale.text) == (409, "3\n")
    assert stale.headers["content-type"].startswith("text/x.tlog.size")

    grown = post(witness, body(3, 5))
    assert grown.status_code == 200, grown.text
    held = httpx.get(f"{witness}/latest-checkpoint", params={"origin": ORIGIN})
    assert held.status_code == 200
    assert verify_note(held.text, ORIGIN, LOG_KEY.public_key()) == note_body(note(5))
    assert grown.text.rstrip("\n") in signature_lines(held.text)
    again = post(witness, body(5, 5))  # the same checkpoint again: cosigned again
    assert again.status_code == 200


def test_each_refusal_has_the_spec_status(witness: str) -> None:
    assert post(witness, body(0, 5)).status_code == 200
    wrong = [bytes(32)] * len(tree(8).consistency_proof(5))
    assert post(witness, body(5, 8, proof=wrong)).status_code == 422
    assert post(witness, body(0, 3)).status_code == 409  # would roll it back
    forked = sign_note(checkpoint_text(ORIGIN, 5, bytes(32)), ORIGIN, LOG_KEY)
    assert post(witness, body(5, 5, text=forked)).status_code == 409  # same size, other root
    impostor = note(8, key=Ed25519PrivateKey.generate())
    assert post(witness, body(5, 8, text=impostor)).status_code == 403
    unknown = note(8, origin="other.example/log")
    assert post(witness, body(5, 8, text=unknown)).status_code == 404
    for malformed in (b"old 05\n\n" + note(8).encode(), b"new 5\n\n" + note(8).encode(),
                      b"old 5\n" + note(8).encode(), b"old 5\nnot-base64\n\n" + note(8).encode(),
                      body(8, 5), b"\xff\xfe"):
        answer = post(witness, malformed)
        assert answer.status_code == 400, (malformed[:20], answer.text)
    oversized = post(witness, body(5, 8) + b"x" * MAX_BODY)  # read no further than the limit
    assert oversized.status_code == 400 and "too large" in oversized.text
    assert post(witness, body(5, 8)).status_code == 200  # nothing refused moved it
    assert httpx.get(f"{witness}/latest-checkpoint",
                     params={"origin": "other.example/log"}).status_code == 404


def test_the_state_survives_a_restart(tmp_path: Path, signer: WitnessSigner) -> None:
    logs = {ORIGIN: LOG_KEY.public_key()}
    first = WitnessService(signer=signer, state_path=tmp_path / "s.json", logs=logs)
    assert first.add_checkpoint(body(0, 5)).status == 200
    second = WitnessService(signer=signer, state_path=tmp_path / "s.json", logs=logs)
    answer = second.add_checkpoint(body(0, 8))
    assert (answer.status, answer.body) == (409, "5\n")
