"""The portal against a hostile client, over real HTTP to uvicorn configured as
`dueprocess portal` configures it: forged X-Forwarded-For, chunked floods, cross-site
writes, probes of internal hosts, attempts to stop someone else's subscription."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import uvicorn
from sqlmodel import func, select

from dueprocess.composition.portal import create_app
from dueprocess.db import session_scope
from dueprocess.settings import PortalSettings, parse_networks
from dueprocess.stack.processes import free_port
from dueprocess.web.context import forwarded_client
from models.notices import Comment, Subscriber
from notifications.transport.receiver import WebhookReceiver
from portal.app import server_config
from tests.portal.conftest import portal_settings

EVIL = "https://evil.example"
TEN_MB = 10 * 1024 * 1024


def comment_count(case_id: str) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(Comment)
                            .where(Comment.case_id == case_id)).one()


def subscriber_count() -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(Subscriber)).one()


@contextmanager
def serving(settings: PortalSettings) -> Iterator[str]:
    """The portal on a free loopback port, served as the CLI serves it."""
    port = free_port()
    server = uvicorn.Server(server_config(create_app(settings), host="127.0.0.1", port=port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = time.monotonic()
    while not server.started:
        # A deadline, not a pause: start-up takes well under a second when idle.
        assert thread.is_alive() and time.monotonic() - started < 120, "portal did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def portal() -> Iterator[str]:
    with serving(portal_settings(comment_rate_count=100_000)) as url:
        yield url


@pytest.fixture
def http(portal: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=portal, timeout=120) as client:
        yield client


# --- the client address: X-Forwarded-For only from configured proxies ----------------------


def test_rotating_forwarded_for_from_loopback_does_not_escape_the_rate_limit(
    consulting_case: str,
) -> None:
    path = f"/api/cases/{consulting_case}/comments"
    with serving(portal_settings(comment_rate_count=2)) as url, httpx.Client(
            base_url=url, timeout=120) as client:
        answers = [client.post(path, json={"body": f"comment {n}"},
                               headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
                   for n in range(1, 5)]
    assert answers == [201, 201, 429, 429]
    assert comment_count(consulting_case) == 2


def test_a_trusted_proxy_names_the_client_but_not_the_hops_the_client_wrote(
    consulting_case: str,
) -> None:
    path = f"/api/cases/{consulting_case}/comments"
    settings = portal_settings(comment_rate_count=2, portal_trusted_proxies="127.0.0.0/8, ::1")
    with serving(settings) as url, httpx.Client(base_url=url, timeout=120) as client:
        def send(forwarded: str) -> int:
            return client.post(path, json={"body": "x"},
                               headers={"X-Forwarded-For": forwarded}).status_code

        # The proxy appends the real client; what the client wrote before it is ignored.
        spoofed = [send(f"6.6.6.{n}, 203.0.113.7") for n in range(3)]
        other = send("203.0.113.8")
        through_two = send("203.0.113.7, 127.0.0.2")  # a second trusted proxy in between
    assert spoofed == [201, 201, 429] and other == 201 and through_two == 429


@pytest.mark.parametrize(("peer", "forwarded", "client"), [
    ("192.0.2.9", ["198.51.100.1"], "192.0.2.9"),  # not a proxy: the header is ignored
    ("10.0.0.1", ["198.51.100.1"], "198.51.100.1"),
    ("10.0.0.1", ["1.1.1.1, 198.51.100.1"], "198.51.100.1"),
    ("10.0.0.1", ["1.1.1.1", "198.51.100.1, 10.0.0.2"], "198.51.100.1"),
    ("10.0.0.1", ["198.51.100.1:4711"], "198.51.100.1"),
    ("10.0.0.1", ["[2001:db8::1]:4711"], "2001:db8::1"),
    ("10.0.0.1", ["10.0.0.3"], "10.0.0.1"),  # only proxies: the nearest one
    ("10.0.0.1", [], "10.0.0.1"),
    ("::ffff:10.0.0.1", ["198.51.100.1"], "198.51.100.1"),
])
def test_forwarded_client(peer: str, forwarded: list[str], client: str) -> None:
    assert forwarded_client(peer, forwarded, parse_networks("10.0.0.0/8")) == client


def test_trusted_proxies_setting_names_a_bad_entry() -> None:
    with pytest.raises(ValueError, match="'nonsense' is not an IP address or network"):
        PortalSettings(portal_trusted_proxies="10.0.0.1, nonsense")
    assert PortalSettings().trusted_proxy_networks == ()  # default: trust nobody


# --- bodies over the limit: 413, also when chunked -----------------------------------------


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    for _ in range(total // size):
        yield b"x" * size


@pytest.mark.parametrize("path", ["/api/cases/{case}/comments", "/cases/{case}/comments",
                                  "/api/subscriptions", "/subscribe"])
def test_a_chunked_10_mb_body_gets_413(http: httpx.Client, consulting_case: str,
                                       path: str) -> None:
    before = (comment_count(consulting_case), subscriber_count())
    media = "application/json" if path.startswith("/api") else \
        "application/x-www-form-urlencoded"
    answer = http.post(path.format(case=consulting_case), content=chunks(TEN_MB),
                       headers={"content-type": media})
    assert "content-length" not in answer.request.headers  # it really went chunked
    assert answer.status_code == 413, answer.text
    assert "over the limit of 65536 bytes" in answer.json()["detail"]
    assert (comment_count(consulting_case), subscriber_count()) == before


def test_a_small_chunked_body_is_read_whole(http: httpx.Client, consulting_case: str) -> None:
    body = b'{"body": "' + "意见".encode() * 2000 + b'"}'
    pieces = iter([body[i:i + 1000] for i in range(0, len(body), 1000)])
    answer = http.post(f"/api/cases/{consulting_case}/comments", content=pieces,
                       headers={"content-type": "application/json"})
    assert answer.status_code == 201, answer.text
    assert comment_count(consulting_case) == 1


def test_a_deeply_nested_json_body_is_refused_by_name(
    http: httpx.Client, consulting_case: str,
) -> None:
    deep = "[" * 30_000 + "]" * 30_000  # within the body limit
    for path, field in ((f"/api/cases/{consulting_case}/comments", "body"),
                        ("/api/subscriptions", "url")):
        answer = http.post(path, content=f'{{"{field}": {deep}}}',
                           headers={"content-type": "application/json"})
        assert answer.status_code == 422, answer.text
        assert "recursion limit exceeded" in answer.json()["detail"]
    assert comment_count(consulting_case) == 0


# --- writes only from the portal's own pages -------------------------------------------------


def form_writes(case: str) -> list[tuple[str, dict[str, str]]]:
    return [(f"/cases/{case}/comments", {"body": "forged"}),
            ("/subscribe", {"url": "json://example.org/hook", "case": case}),
            ("/subscriptions/confirm", {"s": "1", "t": "x.public"}),
            ("/unsubscribe", {"s": "1", "t": "x"})]


@pytest.mark.parametrize(("headers", "rule"), [
    ({"Origin": EVIL}, "Origin: 'https://evil.example' is not this portal"),
    ({"Origin": "null"}, "Origin: 'null' is not this portal"),
    ({"Origin": "null", "Sec-Fetch-Site": "cross-site"}, "Sec-Fetch-Site: 'cross-site'"),
    ({"Origin": "http://127.0.0.1.evil.example"}, "is not this portal"),
    ({"Sec-Fetch-Site": "cross-site"}, "Sec-Fetch-Site: 'cross-site' refused"),
    ({"Sec-Fetch-Site": "same-site"}, "Sec-Fetch-Site: 'same-site' refused"),
    ({"Referer": f"{EVIL}/page.html"}, "Referer: a page of 'https://evil.example'"),
])
def test_cross_site_form_posts_are_refused(
    http: httpx.Client, consulting_case: str, headers: dict[str, str], rule: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="dueprocess.web.guards")
    before = (comment_count(consulting_case), subscriber_count())
    for path, data in form_writes(consulting_case):
        answer = http.post(path, data=data, headers=headers)
        assert answer.status_code == 403, (path, answer.text)
        assert rule in answer.text.replace("&#39;", "'")
        assert answer.headers["content-type"].startswith("text/html")
        assert "default-src 'none'" in answer.headers["content-security-policy"]
        assert f"refused POST {path}" in caplog.text
    assert (comment_count(consulting_case), subscriber_count()) == before


def test_a_json_write_from_another_site_is_refused(
    http: httpx.Client, consulting_case: str,
) -> None:
    for headers in ({"Origin": EVIL}, {"Sec-Fetch-Site": "cross-site"}):
        answer = http.post(f"/api/cases/{consulting_case}/comments", json={"body": "forged"},
                           headers=headers)
        assert answer.status_code == 403, answer.text
        assert re.match(r"^(Origin|Sec-Fetch-Site): ", answer.json()["detail"])
    assert comment_count(consulting_case) == 0


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None,
])
def test_the_json_api_refuses_writes_that_a_form_could_send(
    http: httpx.Client, consulting_case: str, content_type: str | None,
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    for path, body in ((f"/api/cases/{consulting_case}/comments", b'{"body": "forged"}'),
                       ("/api/subscriptions", b'{"url": "json://example.org/x"}')):
        answer = http.post(path, content=body, headers=headers)
        assert answer.request.headers.get("content-type") == content_type
        assert answer.status_code == 403, answer.text
        assert "the JSON API accepts writes only as application/json" in answer.json()["detail"]
    assert comment_count(consulting_case) == 0


def test_the_portals_own_pages_may_post(
    http: httpx.Client, portal: str, consulting_case: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    own = {"Origin": portal, "Sec-Fetch-Site": "same-origin",
           "Referer": f"{portal}/cases/{consulting_case}"}
    sent = http.post(f"/cases/{consulting_case}/comments", data={"body": "from the page"},
                     headers=own, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    # A browser that withholds the referrer sends `Origin: null` from the portal's own page.
    withheld = http.post(f"/cases/{consulting_case}/comments", data={"body": "no referrer"},
                         headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"},
                         follow_redirects=False)
    assert withheld.status_code == 303, withheld.text
    # The pages ask for exactly that: the referrer only to the portal itself.
    assert http.get("/").headers["referrer-policy"] == "same-origin"
    # Behind a TLS proxy the browser's origin is the public address.
    monkeypatch.setenv("DUEPROCESS_PORTAL_URL", "https://portal.example.org")
    public = http.post(f"/cases/{consulting_case}/comments", data={"body": "via the proxy"},
                       headers={"Origin": "https://portal.example.org"},
                       follow_redirects=False)
    assert public.status_code == 303, public.text
    plain = http.post(f"/api/cases/{consulting_case}/comments", json={"body": "a script"})
    assert plain.status_code == 201  # no Origin, no Referer: not a browser
    assert comment_count(consulting_case) == 4


def test_an_unknown_path_or_method_is_still_404_or_405(http: httpx.Client) -> None:
    assert http.post("/api/cases", headers={"Origin": EVIL}).status_code == 405
    assert http.post("/nowhere", headers={"Origin": EVIL}).status_code == 404


# --- subscriptions through the portal ------------------------------------------------------


def test_probing_an_internal_port_gets_the_same_answer_open_or_closed(
    http: httpx.Client, consulting_case: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DUEPROCESS_NOTIFY_ALLOW_PRIVATE_TARGETS", "false")
    receiver = WebhookReceiver().start()
    closed = WebhookReceiver().start()
    closed.stop()
    try:
        answers = set()
        for port in (receiver.port, closed.port):
            url = f"json://127.0.0.1:{port}/probe"
            api = http.post("/api/subscriptions", json={"url": url})
            page = http.post("/subscribe", data={"url": url, "case": consulting_case})
            answers.add((api.status_code, api.json()["detail"], page.status_code,
                         re.sub(r"\s+", " ", page.text)))
        assert len(answers) == 1
        [(status, detail, page_status, _)] = answers
        assert (status, page_status) == (422, 422)
        assert "'127.0.0.1' is not a public internet address" in detail
        assert receiver.arrivals == {}  # the portal never connected
    finally:
        receiver.stop()


def test_resubscribing_through_the_portal_does_not_stop_a_confirmed_subscription(
    http: httpx.Client, consulting_case: str,
) -> None:
    receiver = WebhookReceiver().start()
    try:
        pending = http.post("/api/subscriptions",
                            json={"url": receiver.url, "case_id": consulting_case})
        assert pending.status_code == 202, pending.text
        link = re.search(r"\?s=(\d+)&t=(\S+)", receiver.accepted[-1]["message"])
        assert link is not None
        query = parse_qs(urlparse(link.group(0)).query)
        subscriber, token = query["s"][0], query["t"][0]
        assert http.post("/subscriptions/confirm",
                         data={"s": subscriber, "t": token}).status_code == 200
        again = http.post("/api/subscriptions", json={"url": receiver.url})
        assert again.status_code == 202
    finally:
        receiver.stop()
    with session_scope() as session:
        row = session.get(Subscriber, int(subscriber))
        assert row is not None and row.status == "confirmed"
        assert row.tags == [f"case-{consulting_case}"]


# --- a real browser, on a real other site --------------------------------------------------


@contextmanager
def other_site(html: str) -> Iterator[str]:
    """A page on another site (localhost, not 127.0.0.1: another host, so cross-site)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
@pytest.mark.browser
def test_chromium_submitting_a_form_from_another_site_is_refused(
    portal: str, consulting_case: str,
) -> None:
    from tests.browser import ARGS, CHROMIUM

    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    forged = (f'<form method="post" action="{portal}/cases/{consulting_case}/comments">'
              '<input name="body" value="forged by another site"></form>'
              "<script>document.forms[0].submit()</script>")
    with other_site(forged) as evil, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.goto(evil)
            page.wait_for_url(f"{portal}/cases/{consulting_case}/comments")
            refusal = page.inner_text("#message")
            # The portal's own form, in the same browser, still goes through.
            page.goto(f"{portal}/cases/{consulting_case}")
            page.fill("textarea#body", "from the portal's page")
            page.click("form[action$='/comments'] button[type=submit]")
            page.wait_for_selector("#receipt-number")
        finally:
            browser.close()
    assert refusal.startswith("Sec-Fetch-Site: 'cross-site' refused"), refusal
    with session_scope() as session:
        from portal.comments.submission import comments_for_case

        assert [c.body for c in comments_for_case(session, case_id=consulting_case).comments] \
            == ["from the portal's page"]


def test_a_host_the_portal_does_not_serve_gets_400(http: httpx.Client) -> None:
    """DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1 sends
    Host: evil.example, and its scripts must not read or write the portal."""
    assert http.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert http.post("/api/subscriptions", json={}, headers={"Host": "evil.example"}
                     ).status_code == 400
    assert http.get("/").status_code == 200  # 127.0.0.1, the address it binds


def test_allowed_hosts_add_the_public_name() -> None:
    settings = PortalSettings(portal_allowed_hosts="portal.example.gov.cn, ", portal_host="0.0.0.0")
    assert settings.allowed_hosts == ["localhost", "127.0.0.1", "portal.example.gov.cn"]
