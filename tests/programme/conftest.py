"""Programme tests: proposals of the current year, ballots around the system clock, and
implementation items of a decided demo case."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dueprocess.clock import system_now
from dueprocess.composition.portal import create_app
from implementation.items import add_milestone_as, record_progress_as, register_item_as
from models.implementation import (
    ImplementationItem,
    ItemCreate,
    Milestone,
    MilestoneCreate,
    ProgressUpdate,
    ProgressUpdateCreate,
)
from models.programme import Ballot, BallotCreate, ProposalCreate
from programme.ballots import open_ballot_as
from programme.proposals import submit_proposal
from tests.browser import launched_chromium, served
from tests.portal.conftest import portal_settings
from tests.support import VALID_STEPS, record_steps, register_demo_people, token_for

OFFICIAL = "wang.fang"


@pytest.fixture(autouse=True)
def demo_people() -> None:
    register_demo_people()


@pytest.fixture
def client() -> Iterator[TestClient]:
    """The portal, with room for the forms these tests send from one address."""
    with TestClient(create_app(portal_settings(comment_rate_count=1000)),
                    base_url="http://127.0.0.1") as test_client:
        yield test_client


@pytest.fixture
def portal_url() -> Iterator[str]:
    yield from served(create_app(portal_settings(comment_rate_count=1000)))


@pytest.fixture
def browser() -> Iterator[Any]:
    yield from launched_chromium()


@pytest.fixture(autouse=True)
def quiet_prefect(no_prefect_events: None) -> None:
    """These tests drive whole cases through the services; the flow tests cover events."""


def new_proposal(description: str = "Add a crossing light at the school gate") -> int:
    proposal = submit_proposal(request=ProposalCreate(
        category="交通", level="street", street="中关村街道", place="Zhongguancun No. 2 school",
        description=description), client="127.0.0.1")
    assert proposal.id is not None
    return proposal.id


@pytest.fixture
def make_ballot() -> Callable[..., Ballot]:
    def _make(*, roll: str = "public", choose_up_to: int = 2, options: int = 3,
              opens_at: datetime | None = None, hours: float = 1, **more: Any) -> Ballot:
        now = system_now()
        opens_at = opens_at or now - timedelta(minutes=5)
        return open_ballot_as(request=BallotCreate(
            year=now.year, title="Practical matters for next year", roll=roll,
            choose_up_to=choose_up_to, opens_at=opens_at,
            closes_at=opens_at + timedelta(hours=hours),
            options=[new_proposal(f"Matter number {i} for the list") for i in range(options)],
            **more), actor=OFFICIAL, token=token_for(OFFICIAL), channel="test")
    return _make


# Implementation (Art. 34–35): an item of a decided demo case, run by sun.hao's unit.
DEPARTMENT = "District Justice Bureau"
REPORTER = "sun.hao"


@pytest.fixture
def decided_case(open_demo_case: Callable[[], str]) -> str:
    case_id = open_demo_case()
    record_steps(case_id, VALID_STEPS)
    return case_id


def register(case_id: str, actor: str = OFFICIAL, token: str | None = "", **changes: Any
             ) -> ImplementationItem:
    request = ItemCreate.model_validate({
        "case_id": case_id, "title": "Smart parking meters in five zones",
        "department": DEPARTMENT, "level": "district", **changes})
    return register_item_as(request=request, actor=actor,
                            token=token_for(actor) if token == "" else token, channel="test")


def milestone(item_id: int, due_on: date, actor: str = OFFICIAL) -> Milestone:
    return add_milestone_as(item_id=item_id, request=MilestoneCreate(
        title="Meters installed in zone 1", due_on=due_on), actor=actor,
        token=token_for(actor), channel="test")


def progress(item_id: int, actor: str = REPORTER, token: str | None = None,
             **changes: Any) -> ProgressUpdate:
    request = ProgressUpdateCreate.model_validate({
        "text": "Zone 1 done", "percent": 20, "evidence": ["acceptance record 2027-01"],
        **changes})
    return record_progress_as(item_id=item_id, request=request, actor=actor,
                              token=token or token_for(actor), channel="test")
