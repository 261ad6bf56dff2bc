"""A resident's proposal gets a receipt; moderation marks it with a published reason and
can never delete it; every proposal and mark is a log record."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select

from dueprocess.db import session_scope
from dueprocess.errors import Refused
from dueprocess.ledger import verify_log
from models.ledger import LogLeaf
from models.programme import (
    BallotCreate,
    MarkCreate,
    ProposalCreate,
    ProposalMark,
    programme_chain,
)
from programme.ballots import open_ballot_as
from programme.proposals import moderate_as, proposals_of_year, submit_proposal
from tests.programme.conftest import OFFICIAL, new_proposal
from tests.support import token_for


def mark(proposal_id: int, actor: str = OFFICIAL, **fields: object) -> object:
    return moderate_as(proposal_id=proposal_id, mark=MarkCreate.model_validate(fields),
                       actor=actor, token=token_for(actor), channel="test")


def test_a_proposal_names_its_missing_field() -> None:
    with pytest.raises(ValidationError, match="street: required for a street-level"):
        ProposalCreate(category="交通", level="street", place="x",
                       description="A crossing light at the gate")
    with pytest.raises(ValidationError, match="description"):
        ProposalCreate(category="交通", level="district", place="x",
                       description="short")


def test_moderation_marks_with_a_reason_and_never_deletes() -> None:
    original, duplicate, off_topic = (new_proposal(), new_proposal(),
                                      new_proposal("Lower the national income tax rate"))
    mark(duplicate, kind="merged", merged_into=original, reason="Same crossing as #1")
    mark(off_topic, kind="refused", reason="National tax law is outside the district's powers")
    with pytest.raises(Refused, match=r"PROPOSAL-MARKED-ONCE.*already marked merged"):
        mark(duplicate, kind="refused", reason="again")
    with pytest.raises(Refused, match=r"PROPOSAL-MERGE.*itself merged or refused"):
        mark(original, kind="merged", merged_into=off_topic, reason="x")
    with pytest.raises(Refused, match=r"PROPOSAL-MODERATOR.*'prof.zhang' \(expert\) may not"):
        mark(original, actor="prof.zhang", kind="refused", reason="x")
    shown = {p.proposal.id: p for p in proposals_of_year(year=_year(original), limit=100_000)}
    merged = shown[duplicate].mark
    assert merged is not None and merged.reason == "Same crossing as #1"
    assert shown[original].mark is None  # every proposal stays listed, marked or not
    for statement in (f"DELETE FROM proposal WHERE id = {off_topic}",
                      f"UPDATE proposalmark SET reason = 'x' WHERE proposal_id = {duplicate}"):
        with pytest.raises(DBAPIError, match="append-only"), session_scope() as session:
            session.connection().execute(text(statement))
    with pytest.raises(Refused, match=r"BALLOT-OPTIONS.*merged or refused by moderation"):
        open_ballot_as(request=BallotCreate(
            year=_year(original), title="List", roll="public", choose_up_to=1,
            opens_at="2027-01-01T00:00:00+08:00", closes_at="2027-01-10T00:00:00+08:00",
            options=[original, duplicate]), actor=OFFICIAL, token=token_for(OFFICIAL),
            channel="test")
    with session_scope() as session:
        records = [json.loads(r) for r in session.exec(select(LogLeaf.record).where(
            LogLeaf.case_id == programme_chain(_year(original))).order_by(
            col(LogLeaf.leaf_index)))]
        marks = session.exec(select(ProposalMark.id).where(
            col(ProposalMark.proposal_id).in_([duplicate, off_topic]))).all()
    logged = {(row["table"], row["id"]) for r in records for row in r.get("rows", [])}
    assert {("proposal", i) for i in (original, duplicate, off_topic)} <= logged
    assert len(marks) == 2 and {("proposalmark", i) for i in marks} <= logged
    verify_log()


def _year(proposal_id: int) -> int:
    from models.programme import Proposal

    with session_scope() as session:
        proposal = session.get(Proposal, proposal_id)
        assert proposal is not None
        return proposal.year


def test_the_receipt_is_unique_and_the_client_is_not_stored() -> None:
    first = submit_proposal(request=ProposalCreate(
        category="养老", level="district", place="All streets",
        description="Meal points for the elderly in every community"), client="203.0.113.9")
    second = submit_proposal(request=ProposalCreate(
        category="养老", level="district", place="All streets",
        description="Meal points for the elderly in every community"), client="203.0.113.9")
    assert first.receipt_number != second.receipt_number
    assert "203.0.113.9" not in first.client_digest
    assert first.client_digest == second.client_digest  # keyed: repeat senders are visible
