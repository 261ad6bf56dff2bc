"""Registering people is an upsert: concurrent opens that list the same new people all
succeed and share one row per person; a listing that differs is still refused."""

from __future__ import annotations

import json
import secrets
import threading
from typing import Any

import pytest
import yaml
from sqlmodel import func, select

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError
from dueprocess.services.cases import open_case, register_person, validate_case_request
from models.people import Person, PersonCreate, Role
from tests.conftest import DEMO_CASE


def _demo_with_new_people() -> tuple[dict[str, Any], list[str]]:
    """The demo case file with every person's handle, and every unit, made new for this
    test: the demo's own units in the shared database keep their members (a second head
    of the demo's organ would make every later demo decision lack its single head)."""
    data = yaml.safe_load(DEMO_CASE.read_text(encoding="utf-8"))
    handles = [p["handle"] for p in data["people"]]
    units = {p["unit"] for p in data["people"] if p.get("unit")} | {data["organ"]}
    suffix = secrets.token_hex(3)
    text = json.dumps(data, default=str)
    for name in sorted({*handles, *units}, key=len, reverse=True):
        text = text.replace(json.dumps(name), json.dumps(f"{name}-{suffix}"))
    return json.loads(text), [f"{h}-{suffix}" for h in handles]


def test_the_same_listing_twice_is_one_person_and_a_different_one_is_refused() -> None:
    handle = f"p-{secrets.token_hex(4)}"
    listed = PersonCreate(handle=handle, name="Li Wei", role=Role.EXPERT, unit="Institute")
    with session_scope() as session:
        first = register_person(session, listed)
    with session_scope() as session:
        again = register_person(session, listed)
    assert again.id == first.id
    changed = PersonCreate(handle=handle, name="Li Wei", role=Role.EXPERT, unit="Elsewhere")
    with pytest.raises(DueProcessError, match=f"'{handle}' is registered as"), \
            session_scope() as session:
        register_person(session, changed)


@pytest.mark.postgres
def test_five_concurrent_opens_listing_the_same_new_people_all_succeed() -> None:
    with session_scope() as session:
        if session.connection().dialect.name != "postgresql":
            pytest.skip("the race needs concurrent writers: PostgreSQL "
                        "(SQLite serializes them with BEGIN IMMEDIATE)")
    data, handles = _demo_with_new_people()
    request = validate_case_request(data, source="test")
    start = threading.Barrier(5)
    opened: list[str] = []
    failures: list[BaseException] = []

    def open_one() -> None:
        start.wait()
        try:
            with session_scope() as session:
                opened.append(open_case(session, request=request).id)
        except BaseException as exc:  # reported below, with the others
            failures.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(set(opened)) == 5
    with session_scope() as session:
        for handle in handles:
            count = session.exec(select(func.count()).select_from(Person)
                                 .where(Person.handle == handle)).one()
            assert count == 1, handle
