"""Voting on the portal: a public-roll ballot takes a code sent to the voter's channel and
up to N choices, each refusal naming its rule; the expert roll never votes here; after the
close the page shows the tally."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from models.programme import Ballot
from notifications.transport.receiver import WebhookReceiver
from programme.ballots import close_ballot_as
from tests.programme.conftest import OFFICIAL
from tests.support import token_for


@pytest.fixture(autouse=True)
def loopback_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUEPROCESS_NOTIFY_ALLOW_PRIVATE_TARGETS", "true")


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


def code_for(client: TestClient, webhook: WebhookReceiver, ballot_id: int, voter: str) -> str:
    sent = client.post(f"/programme/ballots/{ballot_id}/code", data={"url": voter})
    assert sent.status_code == 202, sent.text
    found = re.search(r"\b(\d+-\d{8})\b", webhook.accepted[-1]["message"])
    assert found is not None
    return found.group(1)


def test_a_resident_votes_on_the_page_and_sees_the_tally_after_the_close(
    client: TestClient, webhook: WebhookReceiver, make_ballot: Callable[..., Ballot],
) -> None:
    ballot = make_ballot(roll="public", choose_up_to=2, options=3)
    assert ballot.id is not None
    first, second, third = ballot.options
    page = client.get(f"/programme/ballots/{ballot.id}?lang=en")
    assert page.status_code == 200 and 'id="status">open<' in page.text
    assert all(f'value="{option}"' in page.text for option in ballot.options)
    assert f"/programme/ballots/{ballot.id}" in client.get(
        f"/programme/ballots/year/{ballot.year}").text
    code = code_for(client, webhook, ballot.id, f"{webhook.url}/voter-1")
    too_many = client.post(f"/programme/ballots/{ballot.id}/votes",
                           data={"code": code, "choice": [first, second, third]})
    assert too_many.status_code == 400 and "VOTE-CHOICES" in too_many.text
    assert "up to 2" in too_many.text
    counted = client.post(f"/programme/ballots/{ballot.id}/votes",
                          data={"code": code, "choice": [first, third]})
    assert counted.status_code == 201 and "pseudonym" in counted.text
    again = client.post(f"/programme/ballots/{ballot.id}/votes",
                        data={"code": code, "choice": [second]})
    assert again.status_code >= 400 and "VOTE-" in again.text
    other = code_for(client, webhook, ballot.id, f"{webhook.url}/voter-2")
    assert client.post(f"/programme/ballots/{ballot.id}/votes",
                       data={"code": other, "choice": [first]}).status_code == 201
    bad = client.post(f"/programme/ballots/{ballot.id}/votes",
                      data={"code": other, "choice": ["first"]})
    assert bad.status_code == 400 and "choice" in bad.text
    close_ballot_as(ballot_id=ballot.id, actor=OFFICIAL, token=token_for(OFFICIAL),
                    channel="test", now=ballot.closes_at + timedelta(seconds=1))
    closed = client.get(f"/programme/ballots/{ballot.id}?lang=en").text
    assert 'id="status">counted<' in closed and 'id="total">2<' in closed
    assert 'id="votes-verified">0<' in closed and 'id="votes-channel">2<' in closed
    assert "one-time codes to a channel" in closed  # the ballot's assurance level
    assert "按核验级别" in client.get(f"/programme/ballots/{ballot.id}?lang=zh-CN").text
    votes = dict(re.findall(r'id="option-(\d+)">.*?class="votes">(\d+)<', closed, re.S))
    assert votes == {str(first): "2", str(second): "0", str(third): "1"}
    assert 'name="choice"' not in closed  # no more voting


def test_the_expert_roll_votes_elsewhere_and_unknown_ballots_are_404(
    client: TestClient, make_ballot: Callable[..., Ballot],
) -> None:
    ballot = make_ballot(roll="expert")
    page = client.get(f"/programme/ballots/{ballot.id}?lang=en").text
    assert "credential" in page and 'name="choice"' not in page
    refused = client.post(f"/programme/ballots/{ballot.id}/code",
                          data={"url": "mailto://someone@example.org"})
    assert refused.status_code == 400 and "VOTE-ROLL" in refused.text
    assert client.get("/programme/ballots/999999").status_code == 404


def test_a_ballot_for_verified_residents_offers_no_code(
    client: TestClient, make_ballot: Callable[..., Ballot],
) -> None:
    channel = client.get(f"/programme/ballots/{make_ballot().id}").text
    assert 'id="code-form"' in channel and 'id="code"' in channel
    verified = client.get(f"/programme/ballots/{make_ballot(assurance='verified').id}").text
    assert 'id="code-form"' not in verified and 'id="code"' not in verified
    assert 'id="resident-login"' in verified  # the only way to vote on it


@pytest.mark.slow
@pytest.mark.browser
def test_vote_in_chromium(portal_url: str, browser: Any, webhook: WebhookReceiver,
                          make_ballot: Callable[..., Ballot]) -> None:
    ballot = make_ballot(roll="public", choose_up_to=1, options=2)
    page = browser.new_page(locale="zh-CN")
    page.goto(f"{portal_url}/programme/ballots/{ballot.id}")
    page.fill("#url", f"{webhook.url}/browser-voter")
    page.click("#code-form button[type=submit]")
    assert "验证码已发送" in page.inner_text("#message")
    found = re.search(r"\b(\d+-\d{8})\b", webhook.accepted[-1]["message"])
    assert found is not None
    page.goto(f"{portal_url}/programme/ballots/{ballot.id}")
    page.check(f"#choice-{ballot.options[1]}")
    page.fill("#code", found.group(1))
    page.click("#vote-form button[type=submit]")
    assert "您的投票已计入" in page.inner_text("#message")
