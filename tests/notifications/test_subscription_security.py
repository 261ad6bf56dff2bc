"""Subscriptions against a hostile member of the public: nobody can stop or widen someone
else's confirmed subscription, and no subscription makes the portal connect to a host
behind it (loopback, private networks, cloud metadata)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from sqlmodel import select

from dueprocess.db import session_scope
from dueprocess.settings import DEFAULT_SUBSCRIBER_SCHEMES, NotifySettings
from models.notices import Subscriber
from notifications.delivery import deliver_pending
from notifications.subscriptions import SubscriptionError, confirm, subscribe, unsubscribe
from notifications.transport.channels import InvalidChannel, check_subscriber_url
from notifications.transport.receiver import WebhookReceiver
from notifications.transport.targets import is_public_host
from tests.notifications.conftest import ALLOW_PRIVATE, public_notice, write_config


def confirm_link(message: str) -> tuple[int, str]:
    url = re.search(r"http://\S+/subscriptions/confirm\?\S+", message)
    assert url, message
    query = parse_qs(urlparse(url.group(0)).query)
    return int(query["s"][0]), query["t"][0]


def row(subscriber_id: int) -> Subscriber:
    with session_scope() as session:
        found = session.get(Subscriber, subscriber_id)
        assert found is not None
        return found


@pytest.fixture
def confirmed(case_id: str, webhook: WebhookReceiver, notify_settings: NotifySettings,
              tmp_path: Path) -> int:
    """The webhook's owner follows the case and has confirmed."""
    write_config(tmp_path / "apprise.yaml", {})
    subscribe(url=webhook.url, case_id=case_id)
    subscriber_id, token = confirm_link(webhook.accepted[-1]["message"])
    confirm(subscriber_id=subscriber_id, token=token)
    assert row(subscriber_id).status == "confirmed"
    return subscriber_id


# --- a confirmed subscription changes only through its own links ----------------------------


def test_resubscribing_a_confirmed_url_does_not_stop_its_notices(
    confirmed: int, case_id: str, open_demo_case: object, webhook: WebhookReceiver,
    notify_settings: NotifySettings,
) -> None:
    before = row(confirmed)
    other_case = open_demo_case()  # type: ignore[operator]
    # The attacker knows the victim's URL and submits it again: same case, another, all.
    for scope in (case_id, other_case, None):
        subscribe(url=webhook.url, case_id=scope)
    after = row(confirmed)
    assert (after.status, after.tags, after.confirmed_at, after.url_ciphertext) == (
        "confirmed", before.tags, before.confirmed_at, before.url_ciphertext)
    assert len(session_rows()) == 1  # no second row for the same URL

    hearing = public_notice(case_id, place="Hall 2")
    deliver_pending(settings=notify_settings)
    assert webhook.accepted[-1]["title"] == hearing.subject  # still receives


def session_rows() -> list[Subscriber]:
    with session_scope() as session:
        return list(session.exec(select(Subscriber)).all())


def test_a_new_scope_is_added_only_from_the_link_sent_to_the_channel(
    confirmed: int, open_demo_case: object, webhook: WebhookReceiver,
) -> None:
    other_case = open_demo_case()  # type: ignore[operator]
    subscribe(url=webhook.url, case_id=other_case)
    subscriber_id, token = confirm_link(webhook.accepted[-1]["message"])
    assert subscriber_id == confirmed and f"case-{other_case}" not in row(confirmed).tags

    # The token names its scope; another scope under the same secret is no valid link.
    secret, _, tag = token.rpartition(".")
    assert tag == f"case-{other_case}"
    for forged in (f"{secret}.public", f"{secret}.case-dp-2026-ffffff", secret, "x.public"):
        with pytest.raises(SubscriptionError, match="t: this confirmation link is not valid"):
            confirm(subscriber_id=confirmed, token=forged)
    assert row(confirmed).status == "confirmed" and "public" not in row(confirmed).tags

    confirm(subscriber_id=confirmed, token=token)  # the owner opens the link
    assert f"case-{other_case}" in row(confirmed).tags and row(confirmed).status == "confirmed"
    with pytest.raises(SubscriptionError):
        # Used once; confirming again with it does not add anything either.
        subscribe(url=webhook.url, case_id=None)
        confirm(subscriber_id=confirmed, token=token)
    assert "public" not in row(confirmed).tags


def test_only_the_unsubscribe_link_ends_a_confirmed_subscription(
    confirmed: int, webhook: WebhookReceiver,
) -> None:
    for forged in ("", "0" * 32, "forged"):
        with pytest.raises(SubscriptionError, match="unsubscribe link is not valid"):
            unsubscribe(subscriber_id=confirmed, token=forged)
    assert row(confirmed).status == "confirmed"


def test_a_pending_subscription_is_confirmed_for_the_scope_of_its_link(
    case_id: str, webhook: WebhookReceiver,
) -> None:
    subscribe(url=webhook.url, case_id=case_id)
    first = confirm_link(webhook.accepted[-1]["message"])
    subscribe(url=webhook.url, case_id=None)  # someone else asks for everything
    second = confirm_link(webhook.accepted[-1]["message"])
    with pytest.raises(SubscriptionError):
        confirm(subscriber_id=first[0], token=first[1])  # replaced by the newer link
    confirm(subscriber_id=second[0], token=second[1])
    assert row(second[0]).tags == ["public"]  # not the union of both requests


# --- public subscriptions reach public internet addresses only ------------------------------


@pytest.fixture
def no_private(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_PRIVATE, "false")


PRIVATE_URLS = [
    "json://127.0.0.1:{port}/hook", "jsons://localhost:{port}/hook", "json://017700000001:{port}/",
    "json://0x7f000001:{port}/", "json://2130706433:{port}/", "json://0.0.0.0:{port}/",
    "json://[::1]:{port}/", "json://[::ffff:7f00:1]:{port}/", "json://[::]:{port}/",
    "json://10.1.2.3/", "json://172.16.0.1/", "json://192.168.1.1/", "json://100.64.0.1/",
    "json://169.254.169.254/latest/meta-data/", "json://[fe80::1]/", "json://[fc00::1]/",
    "json://[fec0::1]/", "json://224.0.0.1/", "json://[ff02::1]/", "json://240.0.0.1/",
    "json://255.255.255.255/", "json://192.0.2.1/", "json://[2001:db8::1]/",
    "json://[::ffff:10.0.0.1]/", "json://[2002:7f00:1::]/", "json://[64:ff9b::7f00:1]/",
    "json://host.invalid/", "form://127.0.0.1:{port}/", "xml://127.0.0.1:{port}/",
    "ntfy://127.0.0.1:{port}/topic", "gotify://127.0.0.1:{port}/token",
    "mmost://127.0.0.1:{port}/token", "rocket://user:pw@127.0.0.1:{port}/#room",
    "matrix://user:pw@127.0.0.1:{port}/#room",
    "mailto://127.0.0.1:{port}?from=a@example.org&to=b@example.org",
    "mailto://user:pw@example.org?smtp=127.0.0.1&from=a@example.org",
]


@pytest.mark.parametrize("template", PRIVATE_URLS)
def test_a_non_public_target_is_refused_before_any_connection(
    no_private: None, template: str, case_id: str, webhook: WebhookReceiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    before = len(session_rows())
    url = template.format(port=webhook.port)
    caplog.set_level(logging.WARNING)
    with pytest.raises(InvalidChannel) as refused:
        subscribe(url=url, case_id=case_id)
    message = str(refused.value)
    assert message.startswith("url: the host '") and "is not a public internet address" in message
    assert "pw" not in message.replace("public", "")  # no credentials echoed
    assert webhook.arrivals == {} and len(session_rows()) == before  # nothing sent or stored
    assert "subscription refused: target is not a public internet address" in caplog.text
    assert ":pw@" not in caplog.text and str(webhook.port) not in caplog.text


def test_an_open_and_a_closed_port_get_the_same_answer(
    no_private: None, case_id: str, webhook: WebhookReceiver,
) -> None:
    closed = WebhookReceiver().start()
    closed.stop()
    answers = set()
    for port in (webhook.port, closed.port):
        with pytest.raises(InvalidChannel) as refused:
            subscribe(url=f"json://127.0.0.1:{port}/probe", case_id=case_id)
        answers.add((type(refused.value), str(refused.value)))
    assert len(answers) == 1 and webhook.arrivals == {}


@pytest.mark.parametrize(("addresses", "public"), [
    (["8.8.8.8"], True),
    (["2606:4700:4700::1111"], True),
    (["::ffff:8.8.8.8"], True),
    (["8.8.8.8", "10.0.0.1"], False),  # any private answer refuses the name
    (["::ffff:10.0.0.1"], False),
    (["fe80::1%eth0"], False),
    (["169.254.169.254"], False),
    ([], False),
])
def test_a_name_is_judged_by_every_address_it_resolves_to(
    addresses: list[str], public: bool,
) -> None:
    def resolve(host: str) -> list[str]:
        assert host == "hooks.example.org"
        return addresses

    assert is_public_host("hooks.example.org", resolve=resolve) is public
    url = "json://hooks.example.org/hook"
    if public:
        assert check_subscriber_url(url, schemes=DEFAULT_SUBSCRIBER_SCHEMES, resolve=resolve)
    else:
        with pytest.raises(InvalidChannel, match=r"'hooks\.example\.org' is not a public"):
            check_subscriber_url(url, schemes=DEFAULT_SUBSCRIBER_SCHEMES, resolve=resolve)


@pytest.mark.parametrize("url", [
    "discord://1234567/abcdefghij", "tgram://123456789:abcdefg_hijklmnopqrstuvwxyz/12345",
    "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ", "ntfy://mytopic",
])
def test_vendor_services_are_not_judged_by_their_tokens(url: str) -> None:
    def no_lookup(host: str) -> list[str]:
        raise AssertionError(f"looked up {host}")

    assert check_subscriber_url(url, schemes=DEFAULT_SUBSCRIBER_SCHEMES, resolve=no_lookup)


def test_the_setting_allows_loopback_for_tests(case_id: str, webhook: WebhookReceiver) -> None:
    pending = subscribe(url=webhook.url, case_id=case_id)  # the conftest allows it
    assert pending.subscriber_id and len(webhook.accepted) == 1
