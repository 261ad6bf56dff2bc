"""The reviewer inbox in a real headless Chromium (Debian's /usr/bin/chromium): log in with
a password or through a real OIDC provider, see the task, submit evidence with a document,
and see a refusal that names the rule."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from dueprocess.composition.portal import create_app
from dueprocess.db import session_scope
from dueprocess.demo import submissions
from dueprocess.services.identity import link_oidc_subject, set_password
from dueprocess.settings import InboxSettings
from models.evidence import EvidenceItem
from models.people import Person
from tests.browser import served
from tests.portal.conftest import portal_settings
from tests.support import advance_to_step

pytestmark = [pytest.mark.slow, pytest.mark.browser]
PASSWORD = "a long inbox password"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread(require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def portal_url(provider: str) -> Iterator[str]:
    app = create_app(portal_settings(comment_rate_count=1000))
    app.state.inbox_settings = InboxSettings(cookie_secure=False, oidc_issuer=provider,
                                             oidc_client_secret="browser-test")
    yield from served(app)


def password_login(page: Any, portal_url: str, handle: str) -> None:
    with session_scope() as session:
        set_password(session, handle=handle, password=PASSWORD)
    page.goto(f"{portal_url}/inbox")
    page.wait_for_url("**/inbox/login")
    page.fill("input[name=handle]", handle)
    page.fill("input[name=password]", PASSWORD)
    page.click("#password-login")
    page.wait_for_selector("#me")


def fill_risk_form(page: Any, tmp_path: Path) -> None:
    risk = submissions.RISK
    for area in risk["areas"]:
        page.check(f"input[name=areas][value={area}]")
    page.fill("#f-risk_points", "\n".join(risk["risk_points"]))
    page.fill("#f-prevention_measures", "\n".join(risk["prevention_measures"]))
    page.fill("#f-response_plan", risk["response_plan"])
    page.fill("#f-departments_consulted", "\n".join(risk["departments_consulted"]))
    page.select_option("#f-controllable", "true")
    page.select_option("#f-level", "low")
    assert page.inner_text("#k-assessed_on .value")  # from the case clock, not typed
    report = tmp_path / "risk-report.pdf"
    report.write_bytes(b"%PDF-1.4\n% risk assessment report\n")
    page.set_input_files("#f-documents", str(report))


def test_log_in_see_the_task_and_record_evidence(page: Any, portal_url: str,
                                                 consulting_case: str, tmp_path: Path) -> None:
    advance_to_step(consulting_case, "risk_assessment")  # the report's dates have happened
    password_login(page, portal_url, "liu.yang")
    row = page.locator("tr.task", has_text=consulting_case).filter(has_text="风险评估")
    assert row.count() == 1
    assert row.locator(".due").inner_text() != "—"  # the deadline is shown
    row.locator("a").click()
    page.wait_for_selector("#evidence-form")
    assert "草案第1版" in page.inner_text("main")
    fill_risk_form(page, tmp_path)
    page.click("#submit-evidence")
    page.wait_for_selector("#receipt")
    assert "recorded by liu.yang" in page.inner_text("#receipt")
    page.screenshot(path=str(tmp_path / "inbox-receipt.png"), full_page=True)
    with session_scope() as session:
        [item] = session.exec(select(EvidenceItem).where(
            EvidenceItem.case_id == consulting_case)).all()
    assert item.channel == "portal" and item.payload["documents"][0]["filename"] == (
        "risk-report.pdf")


def test_a_refusal_names_the_rule_by_the_field_and_keeps_what_was_typed(
        page: Any, portal_url: str, consulting_case: str, tmp_path: Path) -> None:
    advance_to_step(consulting_case, "risk_assessment")
    password_login(page, portal_url, "liu.yang")
    page.goto(f"{portal_url}/inbox/cases/{consulting_case}/stages/risk_assessment")
    fill_risk_form(page, tmp_path)
    page.fill("#f-departments_consulted", "")  # the rule RA-REPORT-CONTENTS needs them
    page.click("#submit-evidence")
    page.wait_for_selector("#refusal")
    assert "RA-REPORT-CONTENTS" in page.inner_text("#refusal")
    assert "RA-REPORT-CONTENTS" in page.inner_text("#problem-departments_consulted")
    risk = submissions.RISK
    assert page.input_value("#f-response_plan") == risk["response_plan"]
    assert page.input_value("#f-risk_points") == "\n".join(risk["risk_points"])
    assert page.is_visible("#k-assessed_on")  # filled in by dueprocess, never typed
    assert page.input_value("#f-level") == "low"
    for area in risk["areas"]:
        assert page.is_checked(f"input[name=areas][value={area}]")
    page.screenshot(path=str(tmp_path / "inbox-refusal.png"), full_page=True)


def test_another_reviewers_task_is_not_found(page: Any, portal_url: str,
                                             consulting_case: str) -> None:
    password_login(page, portal_url, "sun.hao")  # the legal reviewer, not the risk assessor
    answer = page.goto(f"{portal_url}/inbox/cases/{consulting_case}/stages/risk_assessment")
    assert answer is not None and answer.status == 404
    assert page.locator("#evidence-form").count() == 0


def test_log_in_through_the_oidc_provider(page: Any, portal_url: str, provider: str,
                                          consulting_case: str) -> None:
    with session_scope() as session:
        link_oidc_subject(session, handle="li.wei", issuer=provider, subject="li.wei@gov")
    page.goto(f"{portal_url}/inbox/login")
    page.click("#oidc-login")
    page.wait_for_selector("input[name=sub]")  # the provider's own authorization form
    page.fill("input[name=sub]", "li.wei@gov")
    page.click("button[type=submit]:has-text('Authorize')")
    page.wait_for_selector("#me")
    with session_scope() as session:
        name = session.exec(select(Person.name).where(Person.handle == "li.wei")).one()
    assert page.inner_text("#me") == name
    assert consulting_case in page.inner_text("#tasks")
