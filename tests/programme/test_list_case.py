"""The year's list as a Decree 713 case: opened from a closed ballot with the shortlist as
its draft (nothing typed again), once per ballot; changed during the year only by a
revision decided through the procedure again; its items answer listed proposals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import func, select

from dueprocess.clock import last_day
from dueprocess.db import session_scope
from dueprocess.errors import NotFound, Refused
from dueprocess.services.progress import advance_case
from dueprocess.services.recording import record_evidence
from dueprocess.settings import get_settings
from models.cases import DecisionCase, DraftVersion
from models.notices import CommentWindow
from models.programme import Ballot, ProgrammeList, Proposal
from portal.comments.submission import CommentCreate, submit_comment
from programme.ballots import cast_expert_vote, close_ballot_as
from programme.list_case import open_list_case_as, revise_list_as
from programme.participation import participation_evidence
from tests.programme.conftest import OFFICIAL, new_proposal, register
from tests.support import (
    VALID_STEPS,
    advance_to_step,
    demo_case_data,
    record_steps,
    token_for,
)

EXPERTS = ("prof.zhang", "prof.chen", "dr.zhou")


def list_file(**changes: Any) -> dict[str, Any]:
    data = demo_case_data()
    for generated in ("title", "draft"):
        del data[generated]
    return {**data, **changes}


@pytest.fixture
def closed_ballot(make_ballot: Callable[..., Ballot]) -> Ballot:
    """An expert ballot on three proposals: option 2 gets 3 votes, option 3 gets 2,
    option 1 gets 1."""
    ballot = make_ballot(roll="expert", choose_up_to=2, options=3)
    assert ballot.id is not None
    first, second, third = ballot.options
    for expert, choices in zip(EXPERTS, ([second, third], [second, third], [second, first]),
                               strict=True):
        cast_expert_vote(ballot_id=ballot.id, choices=choices, actor=expert,
                         token=token_for(expert), channel="test")
    close_ballot_as(ballot_id=ballot.id, actor=OFFICIAL, token=token_for(OFFICIAL),
                    channel="test", now=ballot.closes_at + timedelta(minutes=1))
    return ballot


def open_list(ballot: Ballot, size: int = 2, **changes: Any) -> DecisionCase:
    assert ballot.id is not None
    return open_list_case_as(ballot_id=ballot.id, list_size=size, case_file=list_file(
        **changes), token=token_for(OFFICIAL), channel="test")


def draft_text(case_id: str) -> str:
    with session_scope() as session:
        return session.exec(select(DraftVersion.text).where(
            DraftVersion.case_id == case_id)).one()


def test_the_list_case_opens_only_from_a_closed_ballot_and_a_file_without_a_draft(
    make_ballot: Callable[..., Ballot], closed_ballot: Ballot,
) -> None:
    with pytest.raises(Refused, match=r"LIST-BALLOT-CLOSED.*is not closed"):
        open_list(make_ballot())
    with pytest.raises(Refused, match=r"LIST-FILE.*title, draft: made from the ballot"):
        open_list(closed_ballot, title="A list typed by hand",
                  draft={"title": "List", "text": "1. Anything"})
    with pytest.raises(Refused, match=r"LIST-SIZE.*list_size: 4 is not between 1 and"):
        open_list(closed_ballot, size=4)
    with pytest.raises(Refused, match=r"AUTHENTICATED.*the token belongs to 'wang.fang'"):
        open_list(closed_ballot, opened_by="prof.zhang")
    assert closed_ballot.id is not None
    with pytest.raises(Refused, match=r"LIST-OFFICIAL.*'prof.zhang' \(expert\) may not"):
        open_list_case_as(ballot_id=closed_ballot.id, list_size=2, case_file=list_file(
            opened_by="prof.zhang"), token=token_for("prof.zhang"), channel="test")


def test_the_draft_is_the_shortlist_by_votes_and_a_ballot_opens_one_list(
    closed_ballot: Ballot,
) -> None:
    _, second, third = closed_ballot.options
    case = open_list(closed_ballot)
    text = draft_text(case.id)
    assert [line.split("proposal #")[1].split(";")[0] for line in text.splitlines()] == [
        str(second), str(third)]
    assert "; 3 votes)" in text.splitlines()[0] and "; 2 votes)" in text.splitlines()[1]
    assert case.title.startswith("Practical matters for the people")
    with session_scope() as session:
        link = session.exec(select(ProgrammeList).where(
            ProgrammeList.case_id == case.id)).one()
    assert (link.ballot_id, link.proposals, link.revises) == (closed_ballot.id,
                                                              [second, third], None)
    with pytest.raises(Refused, match="LIST-ONCE"):
        open_list(closed_ballot)


def decide_list(case_id: str) -> None:
    """Drive the list case to its decision, its participation evidence made by
    `participation_evidence` from what dueprocess holds (no comments on the draft)."""
    advance_case(case_id=case_id)
    advance_to_step(case_id, "public_participation")
    record_evidence(case_id=case_id, stage_key="public_participation", recorded_by="li.wei",
                    evidence=participation_evidence(case_id), channel="test",
                    token=token_for("li.wei"))
    record_steps(case_id, [step for step in VALID_STEPS if step[0] != "public_participation"])


def test_a_decided_list_changes_only_by_a_revision_and_its_items_are_listed(
    closed_ballot: Ballot,
) -> None:
    first, second, third = closed_ballot.options
    case = open_list(closed_ballot)

    def revise(**changes: Any) -> DecisionCase:
        return revise_list_as(case_id=case.id, case_file=list_file(), token=token_for(
            OFFICIAL), channel="test", **{"add": [], "remove": [], **changes})

    with pytest.raises(Refused, match=r"LIST-REVISION.*not decided yet"):
        revise(add=[first])
    decide_list(case.id)
    with pytest.raises(Refused, match=r"ITEM-ON-LIST.*proposal_id"):
        register(case.id, proposal_id=first)
    assert register(case.id, proposal_id=second).proposal_id == second
    for changes, says in (({}, "changes at least one item"),
                          ({"remove": [first]}, f"remove: #{first} not on the list"),
                          ({"add": [second]}, f"add: #{second} already on the list"),
                          ({"add": [new_proposal()], "remove": [third]}, None)):
        if says is None:
            revision = revise(**changes)
        else:
            with pytest.raises(Refused, match=says):
                revise(**changes)
    assert revision.title.endswith("— revision")
    assert f"proposal #{third})" not in draft_text(revision.id)
    assert f"proposal #{second})" in draft_text(revision.id)
    with pytest.raises(Refused, match=r"LIST-REVISION.*not the latest list"):
        revise(add=[first])


def test_the_participation_evidence_is_filled_in_from_what_dueprocess_holds(
    closed_ballot: Ballot,
) -> None:
    case = open_list(closed_ballot)
    with pytest.raises(NotFound, match="no published comment window yet"):
        participation_evidence(case.id)
    advance_case(case_id=case.id)  # the participation stage opens: the window is published
    submit_comment(case_id=case.id, client="198.51.100.7",
                   comment=CommentCreate(body="请把学校门口的红绿灯排在第一项。"))
    advance_to_step(case.id, "public_participation")  # the window has closed
    evidence = participation_evidence(case.id)
    with session_scope() as session:
        proposals = session.exec(select(func.count()).select_from(Proposal).where(
            Proposal.year == closed_ballot.year)).one()
        window = session.exec(select(CommentWindow).where(
            CommentWindow.case_id == case.id)).one()
    assert evidence["opinions_received"] == proposals + 1
    assert evidence["window_closes"] == last_day(  # open until 24:00 of its last day
        window.closes_at, get_settings().case_timezone).isoformat()
    listed = [r for r in evidence["responses"] if r["reason"] == "On the draft list by the vote."]
    assert len(listed) == 2
    # Typed evidence that does not answer the year's proposals is refused (Art. 18).
    with pytest.raises(Refused, match=r"PP-PROPOSALS-ANSWERED.*no response names"):
        record_evidence(case_id=case.id, stage_key="public_participation",
                        recorded_by="li.wei", evidence=VALID_STEPS[0][2], channel="test",
                        token=token_for("li.wei"))
    # The comments' answer is the officer's judgment: left open, and refused until given.
    with pytest.raises(Refused, match=r"PP-RESPONSE-REASONS.*without a reason"):
        record_evidence(case_id=case.id, stage_key="public_participation",
                        recorded_by="li.wei", evidence=evidence, channel="test",
                        token=token_for("li.wei"))
    evidence["responses"][-1]["reason"] = "The school crossing light is first on the list."
    item = record_evidence(case_id=case.id, stage_key="public_participation",
                           recorded_by="li.wei", evidence=evidence, channel="test",
                           token=token_for("li.wei"))
    assert item.id is not None
