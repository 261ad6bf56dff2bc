"""Channel codes hardened (issue 20, item 2): one mailbox or webhook is one voter however
it is typed, a code dies after 5 wrong attempts, a ballot's attempt budget ends guessing,
and refused guesses reach the log only in aggregate, one record per ballot and minute."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from sqlmodel import col, select

from dueprocess.db import session_scope
from dueprocess.errors import Refused
from dueprocess.ledger import verify_log
from ledger import utc_timestamp
from models.evidence import Refusal
from models.ledger import LogLeaf
from models.programme import Ballot, Vote, VoterCode, ballot_chain
from notifications.public import GUESSES_COUNTED, guesses_spent
from programme.ballots import (
    cast_expert_vote,
    cast_public_vote,
    close_ballot_as,
    issue_code,
)
from tests.programme.conftest import OFFICIAL
from tests.support import token_for

MakeBallot = Callable[..., Ballot]
# The issue's five ways to type one mailbox.
ALICE = ("mailto://alice@example.com", "mailto://Alice@Example.COM",
         "mailtos://alice@example.com", "mailto://alice@example.com?format=text",
         "mailto://alice+vote2@example.com")


def rules_of(call: Callable[[], object]) -> str:
    try:
        call()
    except Refused as refused:
        return ",".join(p.rule for p in refused.problems)
    return "counted"


def votes_of(ballot: Ballot) -> list[Vote]:
    with session_scope() as session:
        return list(session.exec(select(Vote).where(Vote.ballot_id == ballot.id)))


def records_of(ballot: Ballot) -> list[dict[str, object]]:
    assert ballot.id is not None
    with session_scope() as session:
        return [json.loads(r) for r in session.exec(select(LogLeaf.record).where(
            LogLeaf.case_id == ballot_chain(ballot.id)).order_by(col(LogLeaf.leaf_index)))]


def refusal_count(ballot: Ballot) -> int:
    assert ballot.id is not None
    with session_scope() as session:
        return len(session.exec(select(Refusal.id).where(
            Refusal.case_id == ballot_chain(ballot.id))).all())


def wrong(code: str) -> str:
    """The same locator with another secret: a guess at that code."""
    locator, secret = code.split("-")
    return f"{locator}-{(int(secret) + 1) % 10**8:08d}"


@pytest.mark.parametrize(("variants", "kind"), [
    (ALICE, "mailbox"),
    (("json://127.0.0.1:8080/same", "json://127.0.0.1:8080/same/",
      "jsons://127.0.0.1:8080/same?x=1"), "webhook"),
])
def test_one_channel_typed_several_ways_votes_once(
    make_ballot: MakeBallot, variants: tuple[str, ...], kind: str,
) -> None:
    ballot = make_ballot(choose_up_to=1)
    assert ballot.id is not None
    option = ballot.options[0]
    outcomes = [rules_of(lambda url=url: cast_public_vote(  # type: ignore[misc]
        ballot_id=ballot.id or 0, choices=[option],
        code=issue_code(ballot_id=ballot.id or 0, channel_url=url))) for url in variants]
    assert outcomes == ["counted"] + ["VOTE-ONCE"] * (len(variants) - 1), kind
    with session_scope() as session:
        pseudonyms = set(session.exec(select(VoterCode.pseudonym).where(
            VoterCode.ballot_id == ballot.id)).all())
    assert len(pseudonyms) == 1 and len(votes_of(ballot)) == 1


def test_plus_tags_are_separate_channels_only_where_configured(
    make_ballot: MakeBallot, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DUEPROCESS_CODE_EMAIL_PLUS_TAGS", "keep")
    ballot = make_ballot(choose_up_to=1)
    assert ballot.id is not None
    for url in ("mailto://bob@example.com", "mailto://bob+tag@example.com"):
        cast_public_vote(ballot_id=ballot.id, choices=[ballot.options[0]],
                         code=issue_code(ballot_id=ballot.id, channel_url=url))
    assert len(votes_of(ballot)) == 2


def test_a_new_code_replaces_the_last_one_for_the_channel(make_ballot: MakeBallot) -> None:
    ballot = make_ballot()
    assert ballot.id is not None
    first = issue_code(ballot_id=ballot.id, channel_url=ALICE[0])
    second = issue_code(ballot_id=ballot.id, channel_url=ALICE[1])  # the same mailbox
    with pytest.raises(Refused, match=r"VOTE-VERIFIED.*used, replaced or expired"):
        cast_public_vote(ballot_id=ballot.id, code=first, choices=[ballot.options[0]])
    cast_public_vote(ballot_id=ballot.id, code=second, choices=[ballot.options[0]])


def test_a_code_dies_after_five_wrong_attempts(make_ballot: MakeBallot) -> None:
    ballot = make_ballot()
    assert ballot.id is not None
    option = ballot.options[0]
    code = issue_code(ballot_id=ballot.id, channel_url="mailto://carol@example.org")
    outcomes = [rules_of(lambda: cast_public_vote(ballot_id=ballot.id or 0, code=wrong(code),
                                                  choices=[option])) for _ in range(5)]
    assert outcomes == ["VOTE-VERIFIED"] * 4 + ["VOTE-CODE-ATTEMPTS"]
    with pytest.raises(Refused, match=r"\[VOTE-CODE-ATTEMPTS, programme rules\] code: "
                                      r"refused after 5 wrong attempts; ask for a new code"):
        cast_public_vote(ballot_id=ballot.id, code=code, choices=[option])  # the right one
    assert votes_of(ballot) == []
    fresh = issue_code(ballot_id=ballot.id, channel_url="mailto://carol@example.org")
    cast_public_vote(ballot_id=ballot.id, code=fresh, choices=[option])
    assert len(votes_of(ballot)) == 1 and refusal_count(ballot) == 0


def test_past_the_ballots_attempt_budget_no_code_is_taken(make_ballot: MakeBallot) -> None:
    ballot = make_ballot(attempt_budget=3)
    assert ballot.id is not None and ballot.attempt_budget == 3
    option = ballot.options[0]
    code = issue_code(ballot_id=ballot.id, channel_url="mailto://dan@example.org")
    for guess in ("1-00000000", "not a code", "999999999-12345678"):  # 3 codes that are not
        with pytest.raises(Refused, match="VOTE-VERIFIED"):
            cast_public_vote(ballot_id=ballot.id, code=guess, choices=[option])
    with pytest.raises(Refused, match=r"\[VOTE-GUESS-BUDGET, programme rules\] code: ballot "
                                      rf"#{ballot.id} has refused 3 wrong codes, its attempt "
                                      "budget; it takes no code any more"):
        cast_public_vote(ballot_id=ballot.id, code=code, choices=[option])
    assert votes_of(ballot) == []
    with session_scope() as session:
        assert guesses_spent(session, ballot_chain(ballot.id)) == 4  # past it, still counted


def test_a_verified_ballot_takes_no_codes(make_ballot: MakeBallot) -> None:
    ballot = make_ballot(assurance="verified")
    assert ballot.id is not None
    with pytest.raises(Refused, match=r"\[VOTE-ASSURANCE, programme rules\] ballot #\d+ is "
                                      "for verified voters: it takes no one-time codes"):
        issue_code(ballot_id=ballot.id, channel_url="mailto://erin@example.org")
    with pytest.raises(ValueError, match="assurance: an expert ballot is verified"):
        make_ballot(roll="expert", assurance="channel")


def guess_minute(ballot: Ballot, minute: datetime, count: int) -> list[str]:
    """`count` wrong codes received within one minute, sent by 8 clients at once."""
    def one(index: int) -> str:
        at = minute + timedelta(seconds=59.9 * index / count)
        return rules_of(lambda: cast_public_vote(
            ballot_id=ballot.id or 0, code=f"{index + 1}-{index:08d}",
            choices=[ballot.options[0]], now=at))

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


@pytest.mark.slow
def test_two_thousand_wrong_guesses_add_one_record_per_minute(
    make_ballot: MakeBallot,
) -> None:
    """2,000 wrong guesses over 4 minutes: no refusal row, and at most ⌈4⌉ log records
    (each with its minute's count) besides the ballot's own; the tally shows the votes at
    each assurance level."""
    ballot = make_ballot(hours=1, attempt_budget=5_000)
    assert ballot.id is not None
    start = ballot.opens_at.replace(second=0, microsecond=0) + timedelta(minutes=6)
    voted = cast_public_vote(ballot_id=ballot.id, choices=[ballot.options[1]], now=start,
                             code=issue_code(ballot_id=ballot.id, now=start,
                                             channel_url="mailto://frank@example.org"))
    leaves_before = len(records_of(ballot))
    minutes, per_minute = 4, 500
    outcomes: list[str] = []
    for m in range(minutes):
        outcomes += guess_minute(ballot, start + timedelta(minutes=m), per_minute)
    assert outcomes == ["VOTE-VERIFIED"] * minutes * per_minute
    close_ballot_as(ballot_id=ballot.id, actor=OFFICIAL, token=token_for(OFFICIAL),
                    channel="test", now=ballot.closes_at + timedelta(seconds=1))

    added = records_of(ballot)[leaves_before:]
    counted = [r for r in added if r.get("event") == GUESSES_COUNTED]
    assert len(added) - 1 == len(counted) == minutes  # one per minute; +1: the tally
    assert sum(r["body"]["refused_guesses"] for r in counted) == 2_000  # type: ignore[index]
    assert [r["body"]["minute"] for r in counted] == [  # type: ignore[index]
        utc_timestamp(start + timedelta(minutes=m)) for m in range(minutes)]
    assert refusal_count(ballot) == 0 and [v.id for v in votes_of(ballot)] == [voted.id]
    tally = added[-1]
    assert tally["event"] == "ballot.closed"
    assert tally["body"]["votes_by_assurance"] == {"verified": 0, "channel": 1}  # type: ignore[index]
    verify_log()


def test_the_tally_shows_the_votes_at_each_assurance_level(make_ballot: MakeBallot) -> None:
    ballot = make_ballot(roll="expert")
    assert ballot.id is not None
    cast_expert_vote(ballot_id=ballot.id, choices=[ballot.options[0]], actor="prof.zhang",
                     token=token_for("prof.zhang"), channel="test")
    close_ballot_as(ballot_id=ballot.id, actor=OFFICIAL, token=token_for(OFFICIAL),
                    channel="test", now=ballot.closes_at + timedelta(seconds=1))
    [vote] = votes_of(ballot)
    assert vote.assurance == "verified"
    assert records_of(ballot)[-1]["body"]["votes_by_assurance"] == {  # type: ignore[index]
        "verified": 1, "channel": 0}
