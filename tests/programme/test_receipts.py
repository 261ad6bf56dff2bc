"""Vote receipts: a voter gets a receipt id when voting; once a signed tree head covers the
vote its receipt (record, leaf, inclusion proof, signed head) is fetched, and it checks out
offline, from the command line and on the portal page, while a receipt altered in any part
is refused naming that part."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from dueprocess.errors import NotFound
from dueprocess.ledger import get_transparency_settings, log_public_key_pem, publish_tree_head
from ledger import public_key_pem
from ledger.codec import b64decode, b64encode
from models.programme import Ballot
from programme.receipts import (
    FORMAT,
    HEAD,
    KEY,
    PROOF,
    RECORD,
    ReceiptPending,
    ReceiptRefused,
    VoteReceipt,
    fetch_receipt,
    parse_receipt_id,
    receipt_id,
    verify_receipt,
)
from tests.dueprocess.commands.test_cli import dueprocess
from tests.programme.test_ballots import vote

MakeBallot = Callable[..., Ballot]


def voted(make_ballot: MakeBallot, voter: str = "mailto://resident@example.org"
          ) -> tuple[Ballot, str, list[int]]:
    """A vote on a new ballot, and its receipt id as the voter is told it."""
    ballot = make_ballot(choose_up_to=2)
    assert ballot.id is not None
    choices = [ballot.options[0], ballot.options[2]]
    cast = vote(ballot, voter, choices)
    assert cast.id is not None
    return ballot, receipt_id(ballot_id=ballot.id, vote_id=cast.id), choices


def key() -> bytes:
    pem = log_public_key_pem()
    assert pem is not None
    return pem


def signed_receipt(make_ballot: MakeBallot) -> tuple[VoteReceipt, list[int]]:
    _, rid, choices = voted(make_ballot)
    publish_tree_head(announce=lambda _: None)
    return fetch_receipt(rid), choices


def test_a_vote_gets_its_receipt_once_a_signed_head_covers_it(make_ballot: MakeBallot) -> None:
    publish_tree_head(announce=lambda _: None)  # a head, but from before the vote
    ballot, rid, choices = voted(make_ballot)
    with pytest.raises(ReceiptPending, match=r"no signed tree head covers it yet") as pending:
        fetch_receipt(rid)
    assert pending.value.retry_after == get_transparency_settings().max_unsigned_seconds
    head = publish_tree_head(announce=lambda _: None)
    assert head is not None
    receipt = fetch_receipt(rid)
    assert (receipt.receipt_id, receipt.ballot_id, receipt.version) == (rid, ballot.id, 1)
    assert receipt.tree_head == head and receipt.leaf_index < head.tree_size
    checked = verify_receipt(receipt.to_json(), trusted_public_key_pem=key())
    assert checked.choices == sorted(choices)
    assert f"receipt {rid}: verified" in checked.summary()
    # A later head gives a longer proof of the same leaf, which checks out as well.
    voted(make_ballot, "mailto://neighbour@example.org")
    later = publish_tree_head(announce=lambda _: None)
    assert later is not None and later.tree_size > head.tree_size
    again = fetch_receipt(rid)
    assert again.tree_head == later and again.leaf_index == receipt.leaf_index
    verify_receipt(again.to_json(), trusted_public_key_pem=key())


def test_receipt_ids_cannot_be_guessed(make_ballot: MakeBallot) -> None:
    _, rid, _ = voted(make_ballot)
    assert parse_receipt_id(rid) is not None
    ballot_part, vote_part, tag = rid[1:].split("-")
    forged = f"R{ballot_part}-{int(vote_part) + 1}-{tag}"
    assert parse_receipt_id(forged) is None
    with pytest.raises(NotFound, match="not a receipt id of this log"):
        fetch_receipt(forged)
    with pytest.raises(NotFound, match="not a receipt id of this log"):
        fetch_receipt("R1-1-zzzz")


def _flip(text: str) -> str:
    raw = bytearray(b64decode(text))
    raw[0] ^= 1
    return b64encode(bytes(raw))


def _choices(r: dict[str, Any]) -> None:
    r["record"]["rows"][0]["values"]["choices"] = [r["record"]["rows"][0]["values"]["choices"][0]]


def _leaf_hash(r: dict[str, Any]) -> None:
    r["leaf_hash"] = _flip(r["leaf_hash"])


def _leaf_index(r: dict[str, Any]) -> None:
    r["leaf_index"] = r["leaf_index"] - 1 if r["leaf_index"] else 1


def _proof(r: dict[str, Any]) -> None:
    r["inclusion_proof"][0] = _flip(r["inclusion_proof"][0])


def _proof_cut(r: dict[str, Any]) -> None:
    r["inclusion_proof"].pop()


def _head_root(r: dict[str, Any]) -> None:
    r["tree_head"]["root_hash"] = _flip(r["tree_head"]["root_hash"])


def _head_size(r: dict[str, Any]) -> None:
    r["tree_head"]["tree_size"] += 1


def _signature(r: dict[str, Any]) -> None:
    r["tree_head"]["signature"] = _flip(r["tree_head"]["signature"])


def _version(r: dict[str, Any]) -> None:
    r["version"] = 2


def _extra(r: dict[str, Any]) -> None:
    r["note"] = "trust me"


def _other_vote(r: dict[str, Any]) -> None:
    r["record"]["subject_id"] += 1


TAMPERED = [
    (_choices, RECORD, "does not hash to leaf_hash"),
    (_leaf_hash, RECORD, "does not hash to leaf_hash"),
    (_other_vote, RECORD, "does not hash to leaf_hash"),
    (_leaf_index, PROOF, "leaf index or the proof was altered"),
    (_proof, PROOF, "does not lead to the given root"),
    (_proof_cut, PROOF, "too few"),
    (_head_root, HEAD, "does not verify"),
    (_head_size, HEAD, "does not verify"),
    (_signature, HEAD, "does not verify"),
    (_version, FORMAT, "version: 2"),
    (_extra, FORMAT, "note: Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("tamper", "rule", "reason"), TAMPERED,
                         ids=[t[0].__name__.strip("_") for t in TAMPERED])
def test_a_tampered_receipt_is_refused_with_its_reason(
    make_ballot: MakeBallot, tamper: Callable[[dict[str, Any]], None], rule: str, reason: str,
) -> None:
    receipt, _ = signed_receipt(make_ballot)
    data = json.loads(receipt.to_json())
    tamper(data)
    with pytest.raises(ReceiptRefused) as refused:
        verify_receipt(json.dumps(data), trusted_public_key_pem=key())
    assert refused.value.rule == rule
    assert reason in refused.value.reason


def test_a_receipt_is_refused_under_another_key_or_none(make_ballot: MakeBallot) -> None:
    receipt, _ = signed_receipt(make_ballot)
    other = public_key_pem(Ed25519PrivateKey.generate())
    with pytest.raises(ReceiptRefused, match=r"RECEIPT-HEAD: tree head names signing key"):
        verify_receipt(receipt.to_json(), trusted_public_key_pem=other)
    with pytest.raises(ReceiptRefused) as refused:
        verify_receipt(receipt.to_json(), trusted_public_key_pem=b"not a key")
    assert refused.value.rule == KEY
    with pytest.raises(ReceiptRefused, match="RECEIPT-FORMAT: not JSON"):
        verify_receipt("{", trusted_public_key_pem=key())


def test_a_receipt_for_another_record_is_refused(make_ballot: MakeBallot) -> None:
    """A genuine leaf of the log (the ballot's opening, say) passed off as a vote: the
    record hashes and the proof holds, but it is not that vote's record."""
    receipt, _ = signed_receipt(make_ballot)
    data = json.loads(receipt.to_json())
    data["vote_id"] += 1
    with pytest.raises(ReceiptRefused) as refused:
        verify_receipt(json.dumps(data), trusted_public_key_pem=key())
    assert refused.value.rule == RECORD and "record.subject_id is" in refused.value.reason


@pytest.mark.slow
def test_verify_receipt_command(make_ballot: MakeBallot, tmp_path: Path) -> None:
    _, rid, _ = voted(make_ballot)
    publish_tree_head(announce=lambda _: None)
    receipt_file, key_file = tmp_path / "receipt.json", tmp_path / "public-key.pem"
    fetched = dueprocess("programme", "receipt", rid, "--output", receipt_file)
    assert fetched.returncode == 0, fetched.stderr
    assert f"Receipt {rid} written to {receipt_file}" in " ".join(fetched.stdout.split())
    key_file.write_bytes(key())
    checked = dueprocess("verify-receipt", receipt_file, "--trusted-key", key_file)
    assert checked.returncode == 0, checked.stderr
    assert f"receipt {rid}: verified" in " ".join(checked.stdout.split())
    data = json.loads(receipt_file.read_text())
    _signature(data)
    receipt_file.write_text(json.dumps(data))
    refused = dueprocess("verify-receipt", receipt_file, "--trusted-key", key_file)
    assert refused.returncode == 2
    assert "[RECEIPT-HEAD, vote receipts]" in refused.stderr
    assert "does not verify" in " ".join(refused.stderr.split())
    missing = dueprocess("verify-receipt", tmp_path / "nope.json", "--trusted-key", key_file)
    assert missing.returncode == 2 and "RECEIPT: cannot read" in missing.stderr


def test_receipt_on_the_portal(client: TestClient, make_ballot: MakeBallot) -> None:
    _, rid, choices = voted(make_ballot)
    pending = client.get(f"/programme/receipts/{rid}?lang=en")
    assert pending.status_code == 202 and "not ready yet" in pending.text
    assert pending.headers["retry-after"] == str(
        get_transparency_settings().max_unsigned_seconds)
    assert client.get("/programme/receipts/R1-1-0000000000000000").status_code == 404
    publish_tree_head(announce=lambda _: None)
    got = client.get(f"/programme/receipts/{rid}")
    assert got.status_code == 200 and got.headers["content-type"] == "application/json"
    assert f'filename="receipt-{rid}.json"' in got.headers["content-disposition"]
    assert got.json()["receipt_id"] == rid
    form = client.get("/programme/receipts/check?lang=zh-CN")
    assert form.status_code == 200 and "核验投票回执" in form.text
    ok = client.post("/programme/receipts/check?lang=en",
                     files={"file": ("receipt.json", got.content, "application/json")})
    assert ok.status_code == 200 and "The receipt checks out." in ok.text
    shown = re.search(r'<span id="choices">([^<]*)</span>', ok.text)
    assert shown is not None and shown.group(1) == ", ".join(f"#{c}" for c in sorted(choices))
    data = got.json()
    _head_root(data)
    bad = client.post("/programme/receipts/check?lang=en",
                      data={"receipt": json.dumps(data)}, files={"file": ("", b"")})
    assert bad.status_code == 422 and "does not check out" in bad.text
    assert '<span id="rule">RECEIPT-HEAD</span>' in bad.text
    empty = client.post("/programme/receipts/check", files={"file": ("", b"")})
    assert empty.status_code == 422 and "paste the receipt" in empty.text


@pytest.mark.slow
@pytest.mark.browser
def test_check_a_receipt_in_chromium(portal_url: str, browser: Any, make_ballot: MakeBallot,
                                     tmp_path: Path) -> None:
    receipt, choices = signed_receipt(make_ballot)
    page = browser.new_page(locale="zh-CN")
    page.goto(f"{portal_url}/programme/receipts/check")
    page.fill("#receipt", receipt.to_json())
    page.click("#check-form button[type=submit]")
    assert page.inner_text("#verdict") == "回执核验通过。"
    assert page.inner_text("#choices") == ", ".join(f"#{c}" for c in sorted(choices))
    data = json.loads(receipt.to_json())
    _proof(data)
    upload = tmp_path / "receipt.json"
    upload.write_text(json.dumps(data))
    page.goto(f"{portal_url}/programme/receipts/check?lang=en")
    page.set_input_files("#file", str(upload))
    page.click("#check-form button[type=submit]")
    assert page.inner_text("#verdict") == "The receipt does not check out."
    assert page.inner_text("#rule") == "RECEIPT-PROOF"

