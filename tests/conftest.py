"""Shared fixtures: one case database per test session, SQLite or PostgreSQL.

Set DUEPROCESS_TEST_DATABASE_URL to a PostgreSQL URL (e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/test) to run the suite on PostgreSQL: a fresh
database is created on that server for the session and dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEMO_CASE = Path(__file__).resolve().parent.parent / "dueprocess" / "demo" / "case.yaml"
# A test stack: the demo case runs on simulated time (its clock is in the case database,
# so flow workers and servers started by the tests, which inherit this, see it too).
os.environ["DUEPROCESS_ALLOW_SIMULATED_TIME"] = "true"


def _settings_see_the_test_stack() -> None:
    """Benchmarks import this module after their settings may be cached: read them again."""
    from dueprocess.settings import get_settings

    get_settings.cache_clear()


_settings_see_the_test_stack()


# A test's time limit in reference start-ups (a fresh Python importing Prefect's server:
# 2.5 s idle, so 300 s there, and ten times that at load 30).
LIMIT_IN_STARTUPS = 120


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A run with slow tests measures the machine's load first and lets each test without
    a limit of its own take LIMIT_IN_STARTUPS reference start-ups, if more than the
    configured limit: at load 30 every step takes ten times as long."""
    if not any(item.get_closest_marker("slow") for item in items):
        return
    from dueprocess.stack.startup import reference_seconds

    limit = max(float(config.getini("timeout") or 0), LIMIT_IN_STARTUPS * reference_seconds())
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(limit))


def _fresh_postgres_database(server_url: str) -> tuple[str, str]:
    url = make_url(server_url)
    name = f"dueprocess_test_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False), name


def _drop_postgres_database(server_url: str, name: str) -> None:
    admin = create_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def case_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Point dueprocess at a fresh, migrated case database for the whole session."""
    data_dir = tmp_path_factory.mktemp("dueprocess-data")
    server_url = os.environ.get("DUEPROCESS_TEST_DATABASE_URL")
    created = None
    if server_url:
        url, created = _fresh_postgres_database(server_url)
    else:
        url = f"sqlite:///{data_dir / 'cases.db'}"
    os.environ["DUEPROCESS_DATA_DIR"] = str(data_dir)
    os.environ["DUEPROCESS_DATABASE_URL"] = url
    from dueprocess.composition.journal import wire
    from dueprocess.db import _engine_for, migrate
    from dueprocess.settings import get_settings

    get_settings.cache_clear()
    wire()  # as every entry point does before its first write
    migrate()
    yield url
    _engine_for(url).dispose()
    if created and server_url:
        _drop_postgres_database(server_url, created)


@pytest.fixture
def no_prefect_events() -> Iterator[None]:
    """No `dueprocess.*` Prefect events from this test: sent to the session's Prefect
    server, they would start event-triggered flow runs that nothing waits for, and those
    runs would compete with later tests for the case database."""
    from dueprocess.settings import get_ops_settings

    # Set and restored here, not with monkeypatch, whose undo comes after this teardown:
    # a settings read in between would cache "false" for the rest of the session.
    previous = os.environ.get("DUEPROCESS_PREFECT_EVENTS")
    os.environ["DUEPROCESS_PREFECT_EVENTS"] = "false"
    get_ops_settings.cache_clear()  # the settings are read once per process
    assert not get_ops_settings().prefect_events
    yield
    if previous is None:
        del os.environ["DUEPROCESS_PREFECT_EVENTS"]
    else:
        os.environ["DUEPROCESS_PREFECT_EVENTS"] = previous
    get_ops_settings.cache_clear()


@pytest.fixture
def open_demo_case() -> Iterator[object]:
    """Open a fresh copy of the demo case; returns its id."""
    from dueprocess.db import session_scope
    from dueprocess.services.cases import open_case, read_case_file

    def _open() -> str:
        with session_scope() as session:
            return open_case(session, request=read_case_file(DEMO_CASE)).id

    yield _open


@pytest.fixture
def case_id(open_demo_case: object) -> str:
    return open_demo_case()  # type: ignore[operator]
