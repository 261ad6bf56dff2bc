"""The "我要提实事" pages: the form names a bad field, a proposal gets a receipt page, and a
year's list shows every proposal with its published mark; in Chromium too."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from dueprocess.clock import system_now
from models.programme import MarkCreate
from programme.proposals import moderate_as
from tests.programme.conftest import OFFICIAL
from tests.support import token_for

FORM = {"category": "养老", "level": "street", "street": "学院路街道",
        "place": "Xueyuan Road community centre",
        "description": "A canteen for elderly residents, open at noon"}


def test_the_form_names_the_field_and_keeps_what_was_typed(client: TestClient) -> None:
    answer = client.post("/programme/propose?lang=en", data={**FORM, "street": ""})
    assert answer.status_code == 422
    assert "street: required for a street-level proposal" in answer.text
    assert "Xueyuan Road community centre" in answer.text  # nothing typed is lost
    answer = client.post("/programme/propose", data={**FORM, "description": "short"})
    assert answer.status_code == 422 and "description" in answer.text


def test_a_proposal_gets_a_receipt_and_its_mark_is_published(client: TestClient) -> None:
    answer = client.post("/programme/propose", data=FORM, follow_redirects=False)
    assert answer.status_code == 303
    receipt_url = answer.headers["location"]
    receipt = client.get(receipt_url)
    assert receipt.status_code == 200 and "已收到您的建议" in receipt.text
    assert "A canteen for elderly residents" in receipt.text
    proposal_id = int(client.get(f"/programme/{system_now().year}").text.split(
        'id="proposal-')[-1].split('"')[0])
    moderate_as(proposal_id=proposal_id, mark=MarkCreate(
        kind="refused", reason="Run by the city, not the district"),
        actor=OFFICIAL, token=token_for(OFFICIAL), channel="test")
    listed = client.get(f"/programme/{system_now().year}?lang=en")
    assert "Not accepted</strong>: Run by the city, not the district" in listed.text
    assert "Run by the city" in client.get(receipt_url).text
    assert client.get("/programme/proposals/P20260101-00000000").status_code == 404


@pytest.mark.slow
@pytest.mark.browser
def test_propose_in_chromium(portal_url: str, browser: Any) -> None:
    page = browser.new_page(locale="zh-CN")
    page.goto(f"{portal_url}/")
    page.click("a[href='/programme/propose']")
    page.fill("#category", FORM["category"])
    page.select_option("#level", "street")
    page.fill("#place", FORM["place"])
    page.fill("#description", FORM["description"])
    page.click("button[type=submit]")  # the street is missing
    assert "street" in page.inner_text("#errors")
    assert page.input_value("#description") == FORM["description"]
    page.fill("#street", FORM["street"])
    page.click("button[type=submit]")
    page.wait_for_url("**/programme/proposals/P*")
    assert page.inner_text("#receipt-number").startswith("P")
    assert "canteen" in page.inner_text("#proposal-description")
