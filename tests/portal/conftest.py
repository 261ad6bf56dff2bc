"""The portal app in process, and a case whose comment window is open."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dueprocess.composition.portal import create_app
from dueprocess.services.progress import advance_case
from dueprocess.settings import PortalSettings, get_portal_settings
from tests.browser import launched_chromium


def portal_settings(**overrides: object) -> PortalSettings:
    return get_portal_settings().model_copy(update=overrides)


@pytest.fixture(autouse=True)
def loopback_receivers_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests subscribe receivers on loopback, which public subscriptions may not reach by
    default; a test of that refusal sets the variable back to false."""
    monkeypatch.setenv("DUEPROCESS_NOTIFY_ALLOW_PRIVATE_TARGETS", "true")


@pytest.fixture(autouse=True)
def quiet_prefect(no_prefect_events: None) -> None:
    """The portal's tests check pages and records; the flow tests cover events."""


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = create_app(portal_settings(comment_rate_count=1000))
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


@pytest.fixture
def consulting_case(case_id: str) -> str:
    """A case in public participation: its comment window is open now."""
    advance_case(case_id=case_id)
    return case_id


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, once per module of browser tests."""
    yield from launched_chromium()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page in a fresh browser context (no cookies from another test)."""
    context = browser.new_context()
    yield context.new_page()
    context.close()
