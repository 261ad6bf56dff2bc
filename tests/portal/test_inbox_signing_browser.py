"""An expert signs the opinion in a real headless Chromium (Debian's /usr/bin/chromium) with
WebCrypto Ed25519: with a PKCS#8 key file read in the page, and with a non-extractable key
the browser generated and an administrator registered; the server accepts both, and a
signature by another key is refused and audited. Nobody types a base64 signature."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import col, select

from dueprocess.composition.portal import create_app
from dueprocess.db import session_scope
from dueprocess.rules import signatures
from dueprocess.services.administration import register_key_as
from dueprocess.services.identity import set_password
from dueprocess.settings import InboxSettings
from models.evidence import EvidenceItem, Refusal
from models.evidence_schemas import ExpertOpinionEvidence
from tests.browser import served
from tests.portal.conftest import portal_settings
from tests.support import admin_token, advance_to_step

pytestmark = [pytest.mark.slow, pytest.mark.browser]
PASSWORD = "a long inbox password"


@pytest.fixture(scope="module")
def portal_url() -> Iterator[str]:
    app = create_app(portal_settings(comment_rate_count=1000))
    app.state.inbox_settings = InboxSettings(cookie_secure=False)
    yield from served(app)


def open_form(page: Any, portal_url: str, case_id: str, handle: str) -> None:
    with session_scope() as session:
        set_password(session, handle=handle, password=PASSWORD)
    page.goto(f"{portal_url}/inbox/login")
    page.fill("input[name=handle]", handle)
    page.fill("input[name=password]", PASSWORD)
    page.click("#password-login")
    page.wait_for_selector("#me")
    page.goto(f"{portal_url}/inbox/cases/{case_id}/stages/expert_review")
    page.wait_for_selector("#signing")


def judge(page: Any) -> None:
    """What the expert types: judgement only."""
    page.select_option("#f-direct_interest", "false")
    page.select_option("#f-conclusion", "opposes")
    page.fill("#f-opinion", "Revenue use is not ring-fenced;\npublish it.")


def pkcs8_file(key: Ed25519PrivateKey, folder: Path) -> Path:
    path = folder / "expert.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


def recorded_opinion(case_id: str, handle: str) -> EvidenceItem | None:
    with session_scope() as session:
        return session.exec(select(EvidenceItem).where(
            EvidenceItem.case_id == case_id, EvidenceItem.recorded_by == handle)).first()


def test_the_expert_signs_with_a_key_file_in_chromium(page: Any, portal_url: str,
                                                      consulting_case: str,
                                                      tmp_path: Path) -> None:
    advance_to_step(consulting_case, "expert_review")
    key = Ed25519PrivateKey.generate()
    register_key_as(handle="dr.zhou", public_key=signatures.public_key_of(key),
                    token=admin_token(), channel="test")
    open_form(page, portal_url, consulting_case, "dr.zhou")
    judge(page)
    page.set_input_files("#sign-keyfile", str(pkcs8_file(key, tmp_path)))
    with page.expect_request(lambda r: r.url.endswith("/signing-payload")) as asked:
        page.click("#submit-evidence")
    assert b"PRIVATE KEY" not in (asked.value.post_data_buffer or b"")  # never uploaded
    page.wait_for_selector("#receipt")
    item = recorded_opinion(consulting_case, "dr.zhou")
    assert item is not None
    opinion = ExpertOpinionEvidence.model_validate(item.payload)
    assert (opinion.expert_name, opinion.field_of_expertise) == ("Zhou Lan", "public finance")
    assert opinion.opinion.endswith("\npublish it.")
    assert opinion.signature_ed25519 and signatures.verify(
        signatures.public_key_of(key), opinion.signed_bytes(), opinion.signature_ed25519)


def test_a_browser_key_is_registered_once_and_signs(page: Any, portal_url: str,
                                                    consulting_case: str) -> None:
    advance_to_step(consulting_case, "expert_review")
    open_form(page, portal_url, consulting_case, "prof.chen")
    page.click("#make-browser-key")
    page.wait_for_selector("#browser-public-key:not(:empty)")
    public_key = page.inner_text("#browser-public-key").strip()
    # The private half stays in the browser and cannot be read out (non-extractable).
    extractable = page.evaluate("""async () => new Promise((resolve) => {
        const opened = indexedDB.open("dueprocess-signing-keys", 1);
        opened.onsuccess = () => {
          const got = opened.result.transaction("keys").objectStore("keys").get("prof.chen");
          got.onsuccess = () => resolve(got.result.privateKey.extractable);
        };
      })""")
    assert extractable is False
    register_key_as(handle="prof.chen", public_key=public_key, token=admin_token(),
                    channel="test")  # as `dueprocess credentials add-key` does
    page.reload()  # a later visit finds the key in IndexedDB
    page.wait_for_selector("#browser-key:not([hidden])")
    assert page.is_checked("#sign-with-browser-key")
    judge(page)
    page.click("#submit-evidence")
    page.wait_for_selector("#receipt")
    item = recorded_opinion(consulting_case, "prof.chen")
    assert item is not None and signatures.verify(
        public_key, ExpertOpinionEvidence.model_validate(item.payload).signed_bytes(),
        item.payload["signature_ed25519"])


def test_a_signature_by_another_key_is_refused_and_audited(page: Any, portal_url: str,
                                                           consulting_case: str,
                                                           tmp_path: Path) -> None:
    advance_to_step(consulting_case, "expert_review")
    open_form(page, portal_url, consulting_case, "prof.zhang")  # registered: the demo key
    judge(page)
    page.set_input_files("#sign-keyfile", str(pkcs8_file(Ed25519PrivateKey.generate(),
                                                          tmp_path)))
    page.click("#submit-evidence")
    page.wait_for_selector("#refusal")
    assert "EX-SIGNED" in page.inner_text("#refusal")
    assert recorded_opinion(consulting_case, "prof.zhang") is None
    with session_scope() as session:
        [refusal] = session.exec(select(Refusal).where(
            Refusal.case_id == consulting_case).order_by(col(Refusal.id))).all()
    assert refusal.submitted_by == "prof.zhang" and refusal.channel == "portal"
    assert "EX-SIGNED" in [r["rule"] for r in refusal.reasons]
