"""Bootstraps racing on a database without an administrator make exactly one."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from dueprocess.db import _engine_for, migrate, session_scope
from dueprocess.errors import Refused
from dueprocess.services.bootstrap import init_admin
from dueprocess.settings import get_settings
from models.people import Person, Role
from tests.conftest import _drop_postgres_database, _fresh_postgres_database

RACERS = 6


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[None]:
    """A migrated case database of its own, with nobody registered yet."""
    server_url = os.environ.get("DUEPROCESS_TEST_DATABASE_URL")
    created = None
    if server_url:
        url, created = _fresh_postgres_database(server_url)
    else:
        url = f"sqlite:///{tmp_path / 'cases.db'}"
    saved = os.environ["DUEPROCESS_DATABASE_URL"]
    os.environ["DUEPROCESS_DATABASE_URL"] = url
    get_settings.cache_clear()
    try:
        migrate()
        yield
    finally:
        os.environ["DUEPROCESS_DATABASE_URL"] = saved
        get_settings.cache_clear()
        _engine_for(url).dispose()
        if created and server_url:
            _drop_postgres_database(server_url, created)


def test_concurrent_bootstraps_create_one_administrator(empty_database: None) -> None:
    start = threading.Barrier(RACERS)
    outcomes: list[str] = []

    def bootstrap(number: int) -> None:
        start.wait()
        try:
            init_admin(handle=f"admin.{number}", name=f"Admin {number}", channel="test")
            outcomes.append("created")
        except Refused as refused:
            outcomes.append(refused.problems[0].rule)

    threads = [threading.Thread(target=bootstrap, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["BOOTSTRAP-ONCE"] * (RACERS - 1) + ["created"]
    with session_scope() as session:
        admins = session.exec(select(Person).where(Person.role == Role.ADMINISTRATOR)).all()
    assert len(admins) == 1
