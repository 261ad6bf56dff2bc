"""One vote per person, inside the window measured by dueprocess, for at most N options
of the ballot; refusals store nothing but their audit record; the tally closes the
ballot's log chain and anyone can recount it offline from the exported ballot."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select

from dueprocess.db import session_scope
from dueprocess.errors import Refused
from dueprocess.ledger import export_dossier, log_public_key_pem, verify_log
from ledger import DossierError
from models.evidence import Refusal
from models.ledger import LogLeaf
from models.programme import Ballot, Vote, ballot_chain
from notifications.public import guesses_spent
from programme.ballots import (
    cast_expert_vote,
    cast_public_vote,
    close_ballot_as,
    issue_code,
)
from programme.recount import recount
from tests.programme.conftest import OFFICIAL
from tests.support import token_for

MakeBallot = Callable[..., Ballot]


def votes_of(ballot: Ballot) -> list[Vote]:
    with session_scope() as session:
        return list(session.exec(select(Vote).where(Vote.ballot_id == ballot.id)))


def refusals_of(ballot: Ballot) -> list[Refusal]:
    assert ballot.id is not None
    with session_scope() as session:
        return list(session.exec(select(Refusal).where(
            Refusal.case_id == ballot_chain(ballot.id)).order_by(col(Refusal.id))))


def guesses_counted(ballot: Ballot) -> int:
    """Refused code guesses counted in aggregate on the ballot's chain."""
    assert ballot.id is not None
    with session_scope() as session:
        return guesses_spent(session, ballot_chain(ballot.id))


def vote(ballot: Ballot, voter: str, choices: list[int], now: datetime | None = None) -> Vote:
    """A public voter asks for a code (at `now`) and votes with it."""
    assert ballot.id is not None
    code = issue_code(ballot_id=ballot.id, channel_url=voter, now=now)
    return cast_public_vote(ballot_id=ballot.id, code=code, choices=choices, now=now)


def test_each_voter_votes_once_for_at_most_n_options(make_ballot: MakeBallot) -> None:
    ballot = make_ballot(choose_up_to=2)
    a, b, c = ballot.options
    assert ballot.id is not None
    code = issue_code(ballot_id=ballot.id, channel_url="mailto://resident@example.org")
    with pytest.raises(Refused, match=r"\[VOTE-CHOICES, programme rules\] choices: 3 chosen, "
                                      "the ballot allows up to 2"):
        cast_public_vote(ballot_id=ballot.id, code=code, choices=[a, b, c])
    with pytest.raises(Refused, match=r"VOTE-CHOICES.*#999999 not on the ballot"):
        cast_public_vote(ballot_id=ballot.id, code=code, choices=[a, 999999])
    cast_public_vote(ballot_id=ballot.id, code=code, choices=[b, a])  # the code still works
    with pytest.raises(Refused, match="VOTE-VERIFIED"):
        cast_public_vote(ballot_id=ballot.id, code=code, choices=[c])  # used once
    with pytest.raises(Refused, match=r"VOTE-ONCE.*already voted"):
        vote(ballot, "mailto://resident@example.org", [c])  # a new code, the same person
    with pytest.raises(Refused, match="VOTE-VERIFIED"):
        cast_public_vote(ballot_id=ballot.id, code="12345678", choices=[c])
    [stored] = votes_of(ballot)
    assert stored.choices == sorted([a, b]) and "resident" not in stored.pseudonym
    # The three refused votes audited one by one; the two refused codes only counted (a
    # guess is never a record of its own).
    assert [r.reasons[0]["rule"] for r in refusals_of(ballot)] == [
        "VOTE-CHOICES", "VOTE-CHOICES", "VOTE-ONCE"]
    assert guesses_counted(ballot) == 2


def test_the_window_is_measured_when_the_vote_is_recorded(make_ballot: MakeBallot) -> None:
    ballot = make_ballot(hours=1)
    with pytest.raises(Refused, match=r"VOTE-WINDOW.*takes votes from"):
        vote(ballot, "mailto://late@example.org", [ballot.options[0]],
             now=ballot.closes_at + timedelta(seconds=1))
    with pytest.raises(Refused, match="VOTE-WINDOW"):
        vote(ballot, "mailto://early@example.org", [ballot.options[0]],
             now=ballot.opens_at - timedelta(seconds=1))
    assert votes_of(ballot) == []


def test_the_expert_roll_is_the_registered_experts(make_ballot: MakeBallot) -> None:
    ballot = make_ballot(roll="expert")
    assert ballot.id is not None
    option = ballot.options[0]
    with pytest.raises(Refused, match=r"VOTE-ROLL.*is for the expert roll"):
        issue_code(ballot_id=ballot.id, channel_url="mailto://x@example.org")
    with pytest.raises(Refused, match=r"VOTE-ROLL.*'wang.fang' is not on the expert roll"):
        cast_expert_vote(ballot_id=ballot.id, choices=[option], actor=OFFICIAL,
                         token=token_for(OFFICIAL), channel="test")
    with pytest.raises(Refused, match="AUTHENTICATED"):
        cast_expert_vote(ballot_id=ballot.id, choices=[option], actor="prof.zhang",
                         token=token_for(OFFICIAL), channel="test")
    cast_expert_vote(ballot_id=ballot.id, choices=[option], actor="prof.zhang",
                     token=token_for("prof.zhang"), channel="test")
    with pytest.raises(Refused, match="VOTE-ONCE"):
        cast_expert_vote(ballot_id=ballot.id, choices=[option], actor="prof.zhang",
                         token=token_for("prof.zhang"), channel="test")
    assert len(votes_of(ballot)) == 1


def test_anyone_recounts_the_closed_ballot_from_its_export(
    make_ballot: MakeBallot, tmp_path: Path,
) -> None:
    ballot = make_ballot(choose_up_to=2, hours=1)
    assert ballot.id is not None
    a, b, c = ballot.options
    for voter, choices in (("a", [a, b]), ("b", [a]), ("c", [c, a]), ("d", [b])):
        vote(ballot, f"mailto://{voter}@example.org", choices)
    with pytest.raises(Refused, match=r"BALLOT-CLOSE.*takes votes until"):
        close_ballot_as(ballot_id=ballot.id, actor=OFFICIAL, token=token_for(OFFICIAL),
                        channel="test")
    after = ballot.closes_at + timedelta(minutes=1)
    tally = close_ballot_as(ballot_id=ballot.id, actor=OFFICIAL, token=token_for(OFFICIAL),
                            channel="test", now=after)
    assert tally == {a: 3, b: 2, c: 1}
    with pytest.raises(Refused, match="VOTE-WINDOW"):  # nothing after the tally
        vote(ballot, "mailto://e@example.org", [c], now=ballot.closes_at - timedelta(minutes=1))

    export = tmp_path / "ballot"
    export_dossier(ballot_chain(ballot.id), export, announce=lambda _: None, of_case=False)
    key = log_public_key_pem()
    assert key is not None
    result = recount(export, trusted_public_key_pem=key)
    assert (result.votes, result.tally) == (4, tally) and result.report.case_closed
    assert "4 votes recounted" in result.summary()
    verify_log()

    # A vote removed from, or changed in, the export no longer verifies.
    records = sorted((export / "records").iterdir())
    vote_file = next(p for p in records if '"table":"vote"' in p.read_text())
    changed = json.loads(vote_file.read_text())
    changed["rows"][0]["values"]["choices"] = [c]
    vote_file.write_text(json.dumps(changed))
    with pytest.raises(DossierError):
        recount(export, trusted_public_key_pem=key)


def test_a_stored_vote_cannot_be_changed_or_deleted(make_ballot: MakeBallot) -> None:
    ballot = make_ballot()
    stored = vote(ballot, "mailto://f@example.org", [ballot.options[0]])
    for statement in (f"UPDATE vote SET choices = '[1]' WHERE id = {stored.id}",
                      f"DELETE FROM vote WHERE id = {stored.id}"):
        with pytest.raises(DBAPIError, match="vote is append-only"), session_scope() as s:
            s.connection().execute(text(statement))
    assert [v.id for v in votes_of(ballot)] == [stored.id]


def test_votes_sent_at_once_share_transactions_but_count_once_each(
    make_ballot: MakeBallot,
) -> None:
    """Twenty voters at once, each sending their vote twice at the same moment (the same
    code twice): every voter counts once, every vote is its own log record."""
    from concurrent.futures import ThreadPoolExecutor

    ballot = make_ballot(choose_up_to=1)
    assert ballot.id is not None
    codes = [issue_code(ballot_id=ballot.id, channel_url=f"mailto://v{i}@example.org")
             for i in range(20)]

    def send(code: str) -> str:
        try:
            cast_public_vote(ballot_id=ballot.id or 0, code=code, choices=[ballot.options[0]])
        except Refused as refused:
            return refused.problems[0].rule
        return "counted"

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(send, [*codes, *codes]))
    assert sorted(outcomes) == ["VOTE-VERIFIED"] * 20 + ["counted"] * 20
    stored = votes_of(ballot)
    assert len(stored) == len({v.pseudonym for v in stored}) == 20
    with session_scope() as session:
        records = [json.loads(r) for r in session.exec(select(LogLeaf.record).where(
            LogLeaf.case_id == ballot_chain(ballot.id)))]
    logged = [row["id"] for r in records for row in r.get("rows", []) if row["table"] == "vote"]
    assert sorted(logged) == sorted(v.id or 0 for v in stored)
    assert all(len([x for x in r.get("rows", []) if x["table"] == "vote"]) <= 1
               for r in records)  # one vote per record
    assert refusals_of(ballot) == [] and guesses_counted(ballot) == 20  # spent codes


def test_only_an_official_runs_a_ballot(make_ballot: Callable[..., Ballot]) -> None:
    ballot = make_ballot(hours=0.01)
    assert ballot.id is not None
    before = len(refusals_of(ballot))
    with pytest.raises(Refused) as info:  # an expert may vote on the expert roll, not close
        close_ballot_as(ballot_id=ballot.id, actor="prof.zhang", token=token_for("prof.zhang"),
                        channel="test", now=ballot.closes_at + timedelta(seconds=1))
    assert [p.rule for p in info.value.problems] == ["BALLOT-OFFICIAL"]
    assert len(refusals_of(ballot)) == before + 1
    with session_scope() as session:
        assert session.get(Ballot, ballot.id).closed_at is None  # type: ignore[union-attr]
