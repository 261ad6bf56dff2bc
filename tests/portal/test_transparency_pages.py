"""The portal's /transparency (issue 11, item 6): signed heads, their history, consistency
proofs between any two heads, checkpoints and an Atom feed; and witnesses that fetch them
over real HTTP and catch an insider who rewrites the log and re-signs it with the real key.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import text

from dueprocess.composition.portal import create_app
from dueprocess.db import session_scope
from dueprocess.journal import CaseEvent, publish
from dueprocess.ledger import get_transparency_settings, publish_tree_head
from dueprocess.stack.processes import free_port
from ledger import load_public_key, public_key_pem, verify_consistency, verify_tree_head
from ledger.checkpoint import parse_checkpoint, verify_note
from ledger.codec import b64decode
from ledger.signing import SignedTreeHead
from ledger.witness import WitnessError, witness
from models.base import utcnow
from tests.dueprocess.ledger.test_support import (
    decided_case,
    fresh_database,
    triggers_dropped,
)
from tests.dueprocess.ledger.test_tamper import REWRITE_TABLES, _rewrite_decision
from tests.portal.conftest import portal_settings


def grow_and_sign(case_id: str) -> SignedTreeHead:
    with session_scope() as session:
        publish(session, CaseEvent(case_id=case_id, kind="notice.published",
                                   occurred_at=utcnow()))
    sth = publish_tree_head(announce=lambda _: None)
    assert sth is not None
    return sth


@pytest.fixture
def log(tmp_path: Path) -> Iterator[str]:
    """A decided case in a fresh database, its heads signed on decision and closure, and
    one more head after the log grew."""
    with fresh_database(tmp_path):
        case_id = decided_case()
        grow_and_sign(case_id)
        yield case_id


@pytest.fixture
def client(log: str) -> Iterator[TestClient]:
    with TestClient(create_app(portal_settings()), base_url="http://127.0.0.1") as test:
        yield test


def test_heads_json_lists_every_head_with_its_checkpoint(client: TestClient) -> None:
    answer = client.get("/transparency/heads.json")
    assert answer.status_code == 200
    body = answer.json()
    pem = body["public_key"].encode()
    key = load_public_key(pem)
    sizes = [h["tree_size"] for h in body["heads"]]
    assert len(sizes) == 3 and sizes == sorted(sizes)
    for head in body["heads"]:
        note = head.pop("checkpoint")
        sth = SignedTreeHead.model_validate(head)
        verify_tree_head(sth, pem)
        checkpoint = parse_checkpoint(verify_note(note, body["origin"], key))
        assert (checkpoint.tree_size, checkpoint.root_hash) == (sth.tree_size,
                                                                 sth.root_hash_bytes)


def test_consistency_proof_between_any_two_heads(client: TestClient) -> None:
    heads = client.get("/transparency/heads.json").json()["heads"]
    for old in heads:
        for new in heads:
            if old["tree_size"] > new["tree_size"]:
                continue
            answer = client.get("/transparency/consistency.json",
                                params={"first": old["tree_size"], "second": new["tree_size"]})
            assert answer.status_code == 200
            verify_consistency(
                old_size=old["tree_size"], new_size=new["tree_size"],
                old_root=b64decode(old["root_hash"], what="root"),
                new_root=b64decode(new["root_hash"], what="root"),
                proof=[b64decode(p, what="proof") for p in answer.json()["proof"]])


@pytest.mark.parametrize(("params", "status", "message"), [
    ({"first": 3, "second": 2}, 422, "first: must not be larger than second"),
    ({"first": 0, "second": 2}, 422, "first"),
    ({"first": 1, "second": 2}, 404, "no signed tree head of size 1"),
    ({"first": "x", "second": 2}, 422, "first"),
])
def test_bad_consistency_requests_are_named(client: TestClient, params: dict[str, object],
                                            status: int, message: str) -> None:
    answer = client.get("/transparency/consistency.json", params=params)
    assert answer.status_code == status
    assert message in answer.text


def test_checkpoint_page_feed_and_key(client: TestClient) -> None:
    body = client.get("/transparency/heads.json").json()
    latest = body["heads"][-1]
    checkpoint = client.get("/transparency/checkpoint")
    assert checkpoint.status_code == 200 and checkpoint.text == latest["checkpoint"]
    assert checkpoint.headers["content-type"].startswith("text/plain")
    page = client.get("/transparency")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert latest["root_hash"] in page.text and f"<td>{latest['tree_size']}</td>" in page.text
    assert "consistency.json?first=" in page.text
    feed = client.get("/transparency/feed.atom")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith(
        "application/atom+xml")
    assert feed.text.count("<entry>") == 3 and latest["root_hash"] in feed.text
    key = client.get("/transparency/public-key.pem")
    assert key.text == body["public_key"]


def test_no_heads_yet(tmp_path: Path) -> None:
    with fresh_database(tmp_path), TestClient(create_app(portal_settings()),
                                              base_url="http://127.0.0.1") as test:
        assert test.get("/transparency/heads.json").json()["heads"] == []
        assert test.get("/transparency/checkpoint").status_code == 404
        assert "No tree head has been signed yet" in test.get("/transparency").text


@pytest.fixture
def server(log: str) -> Iterator[str]:
    """The portal over real HTTP, on a free port."""
    port = free_port()
    config = uvicorn.Config(create_app(portal_settings()), host="127.0.0.1", port=port,
                            log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:  # start-up time varies with load: wait for it, not a guess
        assert thread.is_alive(), "the portal did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join()


def insider_rewrites_and_resigns() -> None:
    """Change the decision, rebuild the log around it, delete every head and published
    file, and sign again with the log's real key."""
    with session_scope() as session, triggers_dropped(session, *REWRITE_TABLES):
        _rewrite_decision(session, "The fee adjustment is rejected.", drop_heads=True)
    for path in get_transparency_settings().publication_dir.rglob("*"):
        if path.is_file():
            path.unlink()
    assert publish_tree_head(announce=lambda _: None) is not None


def test_a_witness_follows_the_log_and_catches_an_insiders_rewrite(
    log: str, server: str, tmp_path: Path
) -> None:
    state = tmp_path / "witness.json"
    first = witness(server, state)
    assert first.first_use and first.heads_checked == 3
    grown = grow_and_sign(log)
    second = witness(server, state)
    assert second.previous == first.latest and second.latest == grown
    assert "consistent with the head of size" in second.summary()
    kept = state.read_bytes()

    insider_rewrites_and_resigns()
    with pytest.raises(WitnessError, match="LOG REWRITTEN: the head of size "
                                           f"{grown.tree_size} now has root"):
        witness(server, state)
    assert state.read_bytes() == kept  # it keeps what it saw, and fails again next time

    grow_and_sign(log)  # the insider moves on, and hides the re-signed head of that size
    with session_scope() as session, triggers_dropped(session, "publishedtreehead",
                                                      "signedcheckpoint"):
        for table in ("publishedtreehead", "signedcheckpoint"):
            session.connection().execute(text(f"DELETE FROM {table} WHERE tree_size = :n"),
                                         {"n": grown.tree_size})
    with pytest.raises(WitnessError, match=f"cannot prove that its head of size \\d+ extends "
                                           f"the head of size {grown.tree_size}"):
        witness(server, state)
    assert state.read_bytes() == kept


def test_the_witness_command_fails_loudly(log: str, server: str, tmp_path: Path) -> None:
    state = tmp_path / "witness.json"

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "from dueprocess.commands.app import main; main()",
             "witness", server, "--state", str(state)], capture_output=True, text=True, check=False)

    ok = run()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith(f"OK: {server}: 3 signed heads verified")
    assert json.loads(state.read_text())["latest"]["tree_size"] > 0
    insider_rewrites_and_resigns()
    failed = run()
    assert failed.returncode == 1
    assert "FAILED: LOG REWRITTEN" in failed.stdout and "is kept as it was" in failed.stdout


def test_a_witness_refuses_a_changed_key(log: str, server: str, tmp_path: Path) -> None:
    state = tmp_path / "witness.json"
    witness(server, state)
    other = tmp_path / "other.pem"
    other.write_bytes(public_key_pem(Ed25519PrivateKey.generate()))
    with pytest.raises(WitnessError, match="differs from the one this witness pinned"):
        witness(server, state, trusted_public_key_pem=other.read_bytes())


def test_a_witness_with_a_key_cosigns_the_newest_checkpoint(
    log: str, server: str, tmp_path: Path
) -> None:
    from ledger.cosignature import WitnessSigner, note_body, verify_cosignature

    signer = WitnessSigner("witness.example/w1", Ed25519PrivateKey.generate())
    state = tmp_path / "witness.json"
    report = witness(server, state, signer=signer, now=1_700_000_000)
    assert report.cosignature is not None and f"cosigned: {report.cosignature}" in (
        report.summary())
    kept = json.loads(state.read_text())["cosigned"]
    newest = httpx.get(f"{server}/transparency/checkpoint").text
    assert kept == newest + report.cosignature + "\n"
    assert verify_cosignature(note_body(newest), report.cosignature,
                              signer.public).timestamp == 1_700_000_000
