"""Receivers on loopback, notification settings, and a database of each module's own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from dueprocess.db import session_scope
from dueprocess.services.cases import get_case
from dueprocess.settings import NotifySettings, get_notify_settings
from models.base import utcnow
from models.notices import Notice
from notifications import content
from notifications.audiences import PUBLIC, case_tag
from notifications.queue import queue_notice
from notifications.transport.receiver import WebhookReceiver
from tests.notifications.receivers import SmtpReceiver

ALLOW_PRIVATE = "DUEPROCESS_NOTIFY_ALLOW_PRIVATE_TARGETS"


@pytest.fixture(autouse=True)
def loopback_receivers_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The receivers listen on loopback, which public subscriptions may not reach by default;
    a test of that refusal sets the variable back to false."""
    monkeypatch.setenv(ALLOW_PRIVATE, "true")


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver().start()
    yield receiver
    receiver.stop()


def public_notice(case_id: str, *, place: str) -> Notice:
    """A public notice about the case (a hearing's announcement), queued as the outbox does."""
    with session_scope() as session:
        case = get_case(session, case_id)
        hearing = {"held_on": "2099-01-10", "place": place, "selection_method": "lot",
                   "participants": ["A", "B"]}
        return queue_notice(session, case_id=case_id, kind="hearing",
                            audience=[PUBLIC, case_tag(case_id)], public=True,
                            context={**content.case_context(case), "hearing": hearing},
                            dedupe_key=f"{case_id}:test-notice:{place}", now=utcnow())


def write_config(path: Path, channels: dict[str, str]) -> Path:
    """An Apprise YAML configuration: URL -> comma-separated tags."""
    lines = ["version: 1", "urls:"]
    for url, tags in channels.items():
        lines += [f'  - "{url}":', f"      tag: {tags}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def notify_settings(tmp_path: Path) -> NotifySettings:
    """Fast retries for tests; the Apprise config is written by the test."""
    return get_notify_settings().model_copy(update={
        "apprise_config": tmp_path / "apprise.yaml", "notify_backoff_seconds": 0.2,
        "notify_backoff_max_seconds": 1.0, "notify_max_attempts": 3,
        "notify_timeout_seconds": 5.0,
    })


@pytest.fixture(scope="module", autouse=True)
def own_database(case_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh case database for the module (SQLite, or PostgreSQL like the session's),
    with its own tree-head publication directory (as the ledger tests' `fresh_database`):
    a database is a log of its own, and the heads it publishes must not be taken for the
    session log's by later tests.

    The served deliver-notices schedule of the flow tests works on the session database;
    here only the tests' own workers claim deliveries, so attempts and arrivals are exact.
    """
    from dueprocess.db import _engine_for, migrate
    from dueprocess.settings import get_settings
    from tests.conftest import _drop_postgres_database, _fresh_postgres_database

    server = os.environ.get("DUEPROCESS_TEST_DATABASE_URL")
    created = None
    if server:
        url, created = _fresh_postgres_database(server)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('notifications-db') / 'cases.db'}"
    session_heads = os.environ.pop("DUEPROCESS_TREE_HEAD_DIR", None)
    os.environ["DUEPROCESS_DATABASE_URL"] = url
    os.environ["DUEPROCESS_TREE_HEAD_DIR"] = str(tmp_path_factory.mktemp("notifications-heads"))
    get_settings.cache_clear()
    migrate()
    yield url
    _engine_for(url).dispose()
    os.environ["DUEPROCESS_DATABASE_URL"] = case_database
    if session_heads is None:
        os.environ.pop("DUEPROCESS_TREE_HEAD_DIR")
    else:
        os.environ["DUEPROCESS_TREE_HEAD_DIR"] = session_heads
    get_settings.cache_clear()
    if created and server:
        _drop_postgres_database(server, created)
