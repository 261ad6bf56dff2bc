"""Bootstraps racing on a database without an administrator make exactly one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from dueprocess.db import session_scope
from dueprocess.errors import Refused
from dueprocess.services.bootstrap import init_admin
from models.people import Person, Role
from tests.dueprocess.ledger.test_support import fresh_database

RACERS = 6


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[None]:
    """A migrated case database of its own, with nobody registered yet."""
    with fresh_database(tmp_path):
        yield


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
