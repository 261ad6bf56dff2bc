"""Keep-alive delivery: Apprise's webhook plugins reuse connections in delivery threads
only, environment settings are read once, and several processes share the queue."""

from __future__ import annotations

from pathlib import Path

import apprise
import pytest
import requests

from dueprocess.services.progress import advance_case
from dueprocess.settings import NotifySettings
from notifications.audiences import case_tag
from notifications.delivery import deliver_in_processes, deliver_pending
from notifications.transport import http
from notifications.transport.receiver import WebhookReceiver
from tests.notifications.conftest import write_config


def many_webhooks(path: Path, receiver: WebhookReceiver, case_id: str, count: int) -> None:
    """`count` distinct recipients, all on the one receiver."""
    write_config(path, {f"{receiver.url}/{n}": case_tag(case_id) for n in range(count)})


def test_delivery_threads_reuse_connections_and_each_recipient_gets_it_once(
    case_id: str, webhook: WebhookReceiver, notify_settings: NotifySettings, tmp_path: Path,
) -> None:
    many_webhooks(tmp_path / "apprise.yaml", webhook, case_id, 30)
    advance_case(case_id=case_id)
    settings = notify_settings.model_copy(update={"notify_concurrency": 3})

    report = deliver_pending(settings=settings)

    assert report.delivered >= 30 and report.failed == report.retrying == 0
    assert len(webhook.accepted) == report.delivered
    assert set(webhook.keys().values()) == {1}
    assert webhook.connections <= 3  # one kept-alive connection per sending thread
    for module in http.PLUGIN_MODULES:
        assert module.requests is http._STAND_IN


def test_other_callers_of_apprise_keep_plain_requests(webhook: WebhookReceiver) -> None:
    assert http.install()
    assert http.thread_session() is None  # this thread is no delivery thread
    for n in range(2):
        naive = apprise.Apprise()
        naive.add(f"{webhook.url}/{n}")
        assert naive.notify(body="body", title="title")
    assert webhook.connections == 2  # a new connection per message, as before
    plugin = __import__("apprise.plugins.custom_json", fromlist=["requests"])
    assert plugin.requests.RequestException is requests.RequestException


@pytest.mark.parametrize(("variable", "scans"), [
    ("HTTPS_PROXY", True), ("no_proxy", True), ("NETRC", True), ("REQUESTS_CA_BUNDLE", False),
])
def test_environment_is_scanned_per_request_only_when_it_has_proxy_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str, scans: bool,
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "NETRC",
                 "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert http.environment_has_proxies() is False
    monkeypatch.setenv(variable, str(tmp_path / "setting"))
    assert http.environment_has_proxies() is scans
    session = http.DeliverySession(scan_environment=False)
    verify = session.merge_environment_settings("https://example.org/", {}, None, True, None)
    bundle = str(tmp_path / "setting") if variable == "REQUESTS_CA_BUNDLE" else True
    assert verify["verify"] == bundle  # the CA bundle is honoured without a scan
    plain = session.merge_environment_settings("http://example.org/", {}, None, True, None)
    assert plain["verify"] is True  # no TLS, no bundle needed
    refused = session.merge_environment_settings("https://example.org/", {}, None, False, None)
    assert refused["verify"] is False  # a URL with verify=no keeps it


def test_a_delivery_session_keeps_no_cookie_from_one_recipient_for_the_next() -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[str | None] = []

    class SetsCookies(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append(self.headers.get("Cookie"))
            self.send_response(200)
            self.send_header("Set-Cookie", f"session=of-{self.path.strip('/')}; Path=/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), SetsCookies)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        session = http.DeliverySession(scan_environment=False)
        for recipient in ("alice", "bob"):
            session.post(f"http://127.0.0.1:{server.server_address[1]}/{recipient}", data=b"{}")
    finally:
        server.shutdown()
        server.server_close()
    assert seen == [None, None] and len(session.cookies) == 0


def test_two_processes_share_the_queue_and_deliver_each_recipient_once(
    case_id: str, webhook: WebhookReceiver, notify_settings: NotifySettings, tmp_path: Path,
) -> None:
    many_webhooks(tmp_path / "apprise.yaml", webhook, case_id, 40)
    advance_case(case_id=case_id)
    settings = notify_settings.model_copy(update={"notify_batch_size": 5})

    report = deliver_in_processes(2, settings=settings)

    assert report.delivered >= 40 and report.failed == report.retrying == 0
    assert len(webhook.accepted) == sum(webhook.arrivals.values()) == report.delivered
    assert set(webhook.keys().values()) == {1}
    assert deliver_pending(settings=settings).delivered == 0


def test_notices_deliver_command_with_several_processes(
    case_id: str, webhook: WebhookReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from notifications.cli import notices_app

    many_webhooks(tmp_path / "apprise.yaml", webhook, case_id, 12)
    monkeypatch.setenv("DUEPROCESS_APPRISE_CONFIG", str(tmp_path / "apprise.yaml"))
    advance_case(case_id=case_id)

    shown = CliRunner().invoke(notices_app, ["deliver", "--processes", "2"])

    assert shown.exit_code == 0, shown.output
    assert f"delivered {len(webhook.accepted)}," in shown.output
    assert len(webhook.accepted) >= 12 and set(webhook.keys().values()) == {1}
