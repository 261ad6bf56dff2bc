"""Verified residents: an administrator imports the resident register (each import logged,
a bad column or line refused naming it, nothing stored then); a resident in the register in
force votes once per ballot under the keyed hash of issuer and subject, at the `verified`
level, and gets a receipt like every voter; anyone else is refused naming the rule."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from fastapi.testclient import TestClient
from sqlmodel import func, select

from dueprocess.composition.portal import create_app
from dueprocess.db import session_scope
from dueprocess.errors import Refused
from dueprocess.ledger import log_public_key_pem, publish_tree_head
from dueprocess.settings import InboxSettings
from models.ledger import LogLeaf
from models.programme import Ballot
from models.residents import REGISTER_CHAIN, Resident, ResidentRegister
from programme.ballots import close_ballot_as, tally_by_assurance
from programme.receipts import fetch_receipt, receipt_id, verify_receipt
from programme.residents import cast_resident_vote, import_register_as
from tests.dueprocess.commands.test_cli import dueprocess
from tests.portal.conftest import portal_settings
from tests.programme.conftest import OFFICIAL
from tests.programme.test_ballots import vote
from tests.support import token_for

ISSUER = "https://id.example.gov.cn"
REGISTER = ("resident_id,street,community\n"
            "sub-0001,中关村街道,科育社区\n"
            "sub-0002,中关村街道,黄庄社区\n")
MakeBallot = Callable[..., Ballot]


def imported(text: str = REGISTER, actor: str = OFFICIAL) -> ResidentRegister:
    return import_register_as(data=text.encode(), issuer=ISSUER, actor=actor,
                              token=token_for(actor), channel="test")


def counts() -> tuple[int, int]:
    with session_scope() as session:
        return (session.exec(select(func.count()).select_from(ResidentRegister)).one(),
                session.exec(select(func.count()).select_from(Resident)).one())


def test_an_import_is_stored_and_logged() -> None:
    register = imported()
    assert (register.residents, register.issuer) == (2, ISSUER)
    with session_scope() as session:
        leaves = session.exec(select(LogLeaf).where(LogLeaf.case_id == REGISTER_CHAIN,
                                                    LogLeaf.subject_id == register.id)).all()
    records = [json.loads(leaf.record) for leaf in leaves]
    assert [r["event"] for r in records] == ["register.imported"]
    body = records[0]["body"]
    assert body["residents"] == 2 and body["file_sha256"] == register.file_sha256
    assert "sub-0001" not in leaves[0].record  # the ids are not published


@pytest.mark.parametrize(("text", "message"), [
    ("resident_id,street,community,name\nsub-1,a,b,Zhang San\n",
     "column 'name' is not a register column; the columns are resident_id, street, community"),
    ("resident_id,street\nsub-1,a\n", "column 'community' is missing"),
    ("resident_id,street,community\nsub-1,a,\n", "line 2: community is empty"),
    ("resident_id,street,community\nsub-1,a,b\nsub-1,c,d\n",
     "line 3: resident_id is listed before, on line 2"),
    ("resident_id,street,community\nsub-1,a\n", "line 2: 3 values expected"),
    ("resident_id,street,community\n", "the register lists no resident"),
])
def test_a_bad_register_is_refused_naming_the_column_or_line(text: str, message: str) -> None:
    before = counts()
    with pytest.raises(Refused) as refused:
        imported(text)
    assert refused.value.problems[0].rule == "RESIDENT-REGISTER"
    assert message in refused.value.problems[0].message
    assert counts() == before  # nothing stored but the audit


def test_only_an_official_imports_the_register() -> None:
    with pytest.raises(Refused) as refused:
        imported(actor="sun.hao")
    assert refused.value.problems[0].rule == "RESIDENT-REGISTER-OFFICIAL"


def test_a_verified_resident_votes_once_and_gets_a_receipt(make_ballot: MakeBallot) -> None:
    imported()
    ballot = make_ballot(choose_up_to=2)
    assert ballot.id is not None
    a, b, c = ballot.options
    cast = cast_resident_vote(ballot_id=ballot.id, issuer=ISSUER, subject="sub-0001",
                              choices=[a, c])
    assert cast.assurance == "verified"
    with pytest.raises(Refused) as again:  # another login of the same person
        cast_resident_vote(ballot_id=ballot.id, issuer=ISSUER, subject="sub-0001",
                           choices=[b])
    assert again.value.problems[0].rule == "VOTE-ONCE"
    with pytest.raises(Refused) as stranger:
        cast_resident_vote(ballot_id=ballot.id, issuer=ISSUER, subject="sub-9999",
                           choices=[b])
    assert stranger.value.problems[0].rule == "VOTE-RESIDENT"
    with pytest.raises(Refused) as elsewhere:  # the same subject at another platform
        cast_resident_vote(ballot_id=ballot.id, issuer="https://other.example",
                           subject="sub-0002", choices=[b])
    assert elsewhere.value.problems[0].rule == "VOTE-RESIDENT"
    vote(ballot, "mailto://resident@example.org", [b])  # a channel vote beside it
    close_ballot_as(ballot_id=ballot.id, actor=OFFICIAL, token=token_for(OFFICIAL),
                    channel="test", now=ballot.closes_at)
    with session_scope() as session:
        assert tally_by_assurance(session, ballot) == {"verified": 1, "channel": 1}
    assert cast.id is not None
    publish_tree_head(announce=lambda _: None)
    receipt = fetch_receipt(receipt_id(ballot_id=ballot.id, vote_id=cast.id))
    pem = log_public_key_pem()
    assert pem is not None
    assert verify_receipt(receipt.to_json(), trusted_public_key_pem=pem).choices == [a, c]


def test_a_new_register_replaces_the_old(make_ballot: MakeBallot) -> None:
    imported()
    imported("resident_id,street,community\nsub-0002,中关村街道,黄庄社区\n")
    ballot = make_ballot()
    assert ballot.id is not None
    with pytest.raises(Refused) as removed:
        cast_resident_vote(ballot_id=ballot.id, issuer=ISSUER, subject="sub-0001",
                           choices=[ballot.options[0]])
    assert removed.value.problems[0].rule == "VOTE-RESIDENT"
    cast_resident_vote(ballot_id=ballot.id, issuer=ISSUER, subject="sub-0002",
                       choices=[ballot.options[0]])


@pytest.mark.slow
def test_register_import_command(tmp_path: Path) -> None:
    good, bad = tmp_path / "register.csv", tmp_path / "bad.csv"
    good.write_text(REGISTER, encoding="utf-8")
    bad.write_text("resident_id,street,community,phone\nsub-1,a,b,139\n", encoding="utf-8")
    env = {"DUEPROCESS_TOKEN": token_for(OFFICIAL)}
    ok = dueprocess("programme", "register-import", good, "--issuer", ISSUER, "--as",
                    OFFICIAL, env=env)
    assert ok.returncode == 0, ok.stderr
    assert f"2 residents of {ISSUER}" in " ".join(ok.stdout.split())
    refused = dueprocess("programme", "register-import", bad, "--issuer", ISSUER, "--as",
                         OFFICIAL, env=env)
    assert refused.returncode == 2
    assert "column 'phone' is not a register column" in " ".join(refused.stderr.split())


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread(require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


def resident_login(client: TestClient, ballot_id: int, subject: str) -> Any:
    """Through the real provider: the authorization form, then back to the callback."""
    start = client.get(f"/programme/residents/login?ballot={ballot_id}", follow_redirects=False)
    assert start.status_code == 303, start.text
    authorize = start.headers["location"]
    assert parse_qs(urlparse(authorize).query)["code_challenge_method"] == ["S256"]
    answer = requests.post(authorize, data={"sub": subject}, allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text
    callback = urlparse(answer.headers["location"])
    return client.get(f"{callback.path}?{callback.query}", follow_redirects=False)


def test_a_resident_logs_in_with_oidc_and_votes_on_the_portal(
    provider: str, make_ballot: MakeBallot,
) -> None:
    # Typed with a trailing slash: the login's issuer has none, and still matches.
    import_register_as(data=REGISTER.encode(), issuer=provider + "/", actor=OFFICIAL,
                       token=token_for(OFFICIAL), channel="test")
    ballot = make_ballot(choose_up_to=1)
    assert ballot.id is not None
    app = create_app(portal_settings(comment_rate_count=1000))
    app.state.inbox_settings = InboxSettings(cookie_secure=False, oidc_issuer=provider,
                                             oidc_client_secret="test-secret")
    with TestClient(app, base_url="http://127.0.0.1") as client:
        page = client.get(f"/programme/ballots/{ballot.id}?lang=en").text
        assert 'id="resident-login"' in page and 'id="resident-form"' not in page
        stranger = resident_login(client, ballot.id, "sub-9999")
        assert stranger.status_code == 403 and "not in the resident register" in stranger.text
        no_login = client.post(f"/programme/ballots/{ballot.id}/resident-votes",
                               data={"choice": str(ballot.options[0])})
        assert no_login.status_code == 400 and "Log in as a resident first" in no_login.text
        back = resident_login(client, ballot.id, "sub-0002")
        assert back.status_code == 303
        assert back.headers["location"] == f"/programme/ballots/{ballot.id}"
        assert 'id="resident-form"' in client.get(f"/programme/ballots/{ballot.id}").text
        voted = client.post(f"/programme/ballots/{ballot.id}/resident-votes",
                            data={"choice": str(ballot.options[1])})
        assert voted.status_code == 201, voted.text
        assert "verified resident" in voted.text and "/programme/receipts/R" in voted.text
        again = client.post(f"/programme/ballots/{ballot.id}/resident-votes",
                            data={"choice": str(ballot.options[0])})
        assert again.status_code == 400 and "VOTE-ONCE" in again.text
    with session_scope() as session:
        assert tally_by_assurance(session, ballot) == {"verified": 1, "channel": 0}
