"""The reviewer inbox and the evidence API over real HTTP in process: password and OIDC
logins (a real provider, oidc-provider-mock, on loopback), expiring signed sessions, CSRF,
and every unauthenticated write refused with the rule named, audited, nothing stored."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from sqlalchemy import func
from sqlmodel import select

from dueprocess.composition.portal import create_app
from dueprocess.db import session_scope
from dueprocess.demo import submissions
from dueprocess.services.identity import link_oidc_subject, set_password
from dueprocess.settings import InboxSettings
from models.evidence import EvidenceItem, Refusal
from tests.portal.conftest import portal_settings
from tests.support import advance_to_step, token_for

PASSWORD = "a long inbox password"
RISK_FORM: dict[str, Any] = {
    "risk_points": "\n".join(submissions.RISK["risk_points"]),
    "prevention_measures": "\n".join(submissions.RISK["prevention_measures"]),
    "response_plan": submissions.RISK["response_plan"],
    "departments_consulted": "\n".join(submissions.RISK["departments_consulted"]),
    "controllable": "true", "level": "low", "assessed_on": submissions.RISK["assessed_on"],
    "areas": submissions.RISK["areas"],
}


def inbox_client(**settings: Any) -> TestClient:
    app = create_app(portal_settings(comment_rate_count=1000))
    app.state.inbox_settings = InboxSettings(cookie_secure=False, **settings)
    return TestClient(app, base_url="http://127.0.0.1")


@pytest.fixture
def inbox() -> Iterator[TestClient]:
    with inbox_client() as client:
        yield client


def evidence_count(case_id: str) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(EvidenceItem)
                            .where(EvidenceItem.case_id == case_id)).one()


def refusals(case_id: str, channel: str) -> list[Refusal]:
    with session_scope() as session:
        return list(session.exec(select(Refusal).where(
            Refusal.case_id == case_id, Refusal.channel == channel).order_by(Refusal.id)).all())  # type: ignore[arg-type]


def login(client: TestClient, handle: str, password: str = PASSWORD) -> Any:
    with session_scope() as session:
        set_password(session, handle=handle, password=PASSWORD)
    form = client.get("/inbox/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    return client.post("/inbox/login", data={"handle": handle, "password": password,
                                             "csrf": csrf})


def page_csrf(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return re.search(r'name="csrf" value="([^"]+)"', response.text).group(1)  # type: ignore[union-attr]


def task_path(case_id: str, stage: str = "risk_assessment") -> str:
    return f"/inbox/cases/{case_id}/stages/{stage}"


def test_a_password_login_starts_a_strict_expiring_session(inbox: TestClient,
                                                           consulting_case: str) -> None:
    assert inbox.get("/inbox", follow_redirects=False).headers["location"] == "/inbox/login"
    assert login(inbox, "liu.yang", "wrong password!!").status_code == 401
    response = login(inbox, "liu.yang")
    assert response.status_code == 200
    cookie = next(c for c in response.headers.get_list("set-cookie")
                  if c.startswith("dp_inbox="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=1800" in cookie
    assert "Path=/inbox" in cookie
    page = inbox.get("/inbox")
    assert re.search(r'<span id="me">[^<]+</span>', page.text)
    assert task_path(consulting_case) in page.text
    assert re.search(r'class="due">[^<]*\d{4}[^<]*\d\d:\d\d', page.text)
    task = inbox.get(task_path(consulting_case))
    for field in ("risk_points", "controllable", "documents"):
        assert f'name="{field}"' in task.text
    # The date of recording comes from the case clock: shown, never an input.
    assert 'id="k-assessed_on"' in task.text and 'name="assessed_on"' not in task.text
    assert 'type="file"' in task.text and "草案第1版" in task.text


def test_revoking_the_password_ends_the_session(inbox: TestClient,
                                                consulting_case: str) -> None:
    from dueprocess.services.identity import revoke
    from models.people import Credential, CredentialKind, Person

    login(inbox, "qian.yu")
    assert inbox.get("/inbox", follow_redirects=False).status_code == 200
    with session_scope() as session:
        [credential] = session.exec(select(Credential).join(Person).where(
            Person.handle == "qian.yu", Credential.kind == CredentialKind.PASSWORD,
            Credential.revoked_at.is_(None))).all()  # type: ignore[union-attr]
        revoke(session, credential_id=credential.id or 0)
    assert inbox.get("/inbox", follow_redirects=False).status_code == 303


def test_an_expired_or_forged_session_is_not_accepted(inbox: TestClient,
                                                      consulting_case: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 3600)
    login(inbox, "liu.yang")  # signed an hour ago: past the 30 minutes
    monkeypatch.setattr(TimestampSigner, "get_timestamp", real)
    assert inbox.get("/inbox", follow_redirects=False).status_code == 303
    inbox.cookies.set("dp_inbox", "eyJoIjoibGl1LnlhbmcifQ.forged.sig", path="/inbox")
    assert inbox.get("/inbox", follow_redirects=False).status_code == 303


def test_evidence_through_the_inbox_and_every_refusal(inbox: TestClient,
                                                      consulting_case: str) -> None:
    advance_to_step(consulting_case, "risk_assessment")  # the report's dates have happened
    before = evidence_count(consulting_case)
    # No session: refused, rule named, audited, nothing stored.
    anonymous = inbox.post(task_path(consulting_case), data={**RISK_FORM, "csrf": "x"})
    assert anonymous.status_code == 401 and "AUTHENTICATED" in anonymous.text
    login(inbox, "liu.yang")
    csrf = page_csrf(inbox, task_path(consulting_case))
    # A cross-site post, or one without the session's CSRF token: refused and audited.
    cross = inbox.post(task_path(consulting_case), data={**RISK_FORM, "csrf": csrf},
                       headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403 and "[CSRF, ASVS 4.2.2]" in cross.text
    fetched = inbox.post(task_path(consulting_case), data={**RISK_FORM, "csrf": csrf},
                         headers={"Sec-Fetch-Site": "cross-site", "Origin": "null"})
    assert fetched.status_code == 403
    missing = inbox.post(task_path(consulting_case), data=RISK_FORM)
    assert missing.status_code == 403
    # A rule of the procedure: the schema, named field by field.
    incomplete = inbox.post(task_path(consulting_case),
                            data={"csrf": csrf, "risk_points": "one"})
    assert incomplete.status_code == 422 and "[SCHEMA, schema] evidence.response_plan" in (
        incomplete.text)
    assert evidence_count(consulting_case) == before
    # The real thing, with a document.
    recorded = inbox.post(task_path(consulting_case), data={**RISK_FORM, "csrf": csrf},
                          files={"documents": ("report.pdf", b"%PDF-1.4 risk report",
                                               "application/pdf")})
    assert recorded.status_code == 201, recorded.text
    assert "Evidence #" in recorded.text and "recorded by liu.yang" in recorded.text
    with session_scope() as session:
        item = session.exec(select(EvidenceItem).where(
            EvidenceItem.case_id == consulting_case)).one()
    assert item.channel == "portal" and item.recorded_by == "liu.yang"
    assert item.payload["documents"][0]["filename"] == "report.pdf"
    rules = [r.reasons[0]["rule"] for r in refusals(consulting_case, "portal")]
    assert rules == ["AUTHENTICATED", "CSRF", "CSRF", "CSRF", "SCHEMA"]


def test_a_person_not_assigned_is_refused_by_the_rule(inbox: TestClient,
                                                      consulting_case: str) -> None:
    login(inbox, "sun.hao")
    assert inbox.get(task_path(consulting_case)).status_code == 404
    csrf = page_csrf(inbox, "/inbox")
    refused = inbox.post(task_path(consulting_case), data={**RISK_FORM, "csrf": csrf})
    assert refused.status_code == 404  # audited as the rule, answered as an unknown task
    assert [r.reasons[0]["rule"] for r in refusals(consulting_case, "portal")] == [
        "ASSIGNED-RECORDER"]
    assert evidence_count(consulting_case) == 0


def test_the_evidence_api_needs_the_bearer_token(inbox: TestClient,
                                                 consulting_case: str) -> None:
    advance_to_step(consulting_case, "risk_assessment")  # the report's dates have happened
    url = f"/api/cases/{consulting_case}/stages/risk_assessment/evidence"
    body = {"evidence": submissions.RISK, "recorded_by": "liu.yang"}
    attempts = [({}, body), ({"Authorization": "Bearer dp_guess"}, body),
                ({}, {"evidence": submissions.RISK}),
                ({"Authorization": f"Bearer {token_for('sun.hao')}"}, body)]
    for headers, payload in attempts:
        response = inbox.post(url, json=payload, headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["rules"] == ["AUTHENTICATED"]
    assert evidence_count(consulting_case) == 0
    assert len(refusals(consulting_case, "api")) == len(attempts)
    ok = inbox.post(url, json={"evidence": submissions.RISK},
                    headers={"Authorization": f"Bearer {token_for('liu.yang')}"})
    assert ok.status_code == 201, ok.text
    assert ok.json()["recorded_by"] == "liu.yang"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread(require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


def oidc_login(client: TestClient, provider: str, subject: str) -> Any:
    """Through the real provider: the authorization form, then back to the callback."""
    start = client.get("/inbox/login/oidc", follow_redirects=False)
    assert start.status_code == 303
    authorize = start.headers["location"]
    query = parse_qs(urlparse(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"]
    answer = requests.post(authorize, data={"sub": subject}, allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text
    callback = urlparse(answer.headers["location"])
    return client.get(f"{callback.path}?{callback.query}")


def test_an_oidc_login_through_a_real_provider(provider: str, consulting_case: str) -> None:
    with session_scope() as session:
        link_oidc_subject(session, handle="liu.yang", issuer=provider, subject="liu@district")
    with inbox_client(oidc_issuer=provider, oidc_client_secret="test-secret") as client:
        assert "/inbox/login/oidc" in client.get("/inbox/login").text
        unlinked = oidc_login(client, provider, "mallory@elsewhere")
        assert unlinked.status_code == 403 and "not linked" in unlinked.text
        assert client.get("/inbox", follow_redirects=False).status_code == 303
        logged_in = oidc_login(client, provider, "liu@district")
        assert logged_in.status_code == 200 and "Logged in as liu.yang" in logged_in.text
        assert 'id="me"' in client.get("/inbox").text
    with inbox_client(oidc_issuer=provider, oidc_client_secret="test-secret") as other:
        # A callback without this browser's state cookie is refused.
        start = other.get("/inbox/login/oidc", follow_redirects=False)
        answer = requests.post(start.headers["location"], data={"sub": "liu@district"},
                               allow_redirects=False, timeout=30)
        callback = urlparse(answer.headers["location"])
        other.cookies.clear()
        replay = other.get(f"{callback.path}?{callback.query}")
        assert replay.status_code == 400 and "state mismatch" in replay.text
