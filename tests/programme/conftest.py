"""Programme tests: proposals of the current year and ballots around the system clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from dueprocess.clock import system_now
from models.programme import Ballot, BallotCreate, ProposalCreate
from programme.ballots import open_ballot_as
from programme.proposals import submit_proposal
from tests.support import register_demo_people, token_for

OFFICIAL = "wang.fang"


@pytest.fixture(autouse=True)
def demo_people() -> None:
    register_demo_people()


def new_proposal(description: str = "Add a crossing light at the school gate") -> int:
    proposal = submit_proposal(request=ProposalCreate(
        category="交通", level="street", street="中关村街道", place="Zhongguancun No. 2 school",
        description=description), client="127.0.0.1")
    assert proposal.id is not None
    return proposal.id


@pytest.fixture
def make_ballot() -> Callable[..., Ballot]:
    def _make(*, roll: str = "public", choose_up_to: int = 2, options: int = 3,
              opens_at: datetime | None = None, hours: float = 1) -> Ballot:
        now = system_now()
        opens_at = opens_at or now - timedelta(minutes=5)
        return open_ballot_as(request=BallotCreate(
            year=now.year, title="Practical matters for next year", roll=roll,
            choose_up_to=choose_up_to, opens_at=opens_at,
            closes_at=opens_at + timedelta(hours=hours),
            options=[new_proposal(f"Matter number {i} for the list") for i in range(options)]),
            actor=OFFICIAL, token=token_for(OFFICIAL), channel="test")
    return _make
