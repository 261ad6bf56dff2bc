"""Ballots on the shortlist: the rolls, one vote per person, and the tally.

Two rolls, kept apart: a ballot is either for the public or for the experts. A public
voter proves control of a channel (an Apprise URL) with a one-time code sent to it; an
expert votes with their API token. Either way the vote is stored under a pseudonym, an
HMAC of the voter keyed per ballot (a public voter's channel canonicalised first, so one
mailbox is one voter however it is typed), so one person votes once and no voter's
identity is ever published. Each ballot declares its assurance level (`verified`, or
`channel` for one-time codes) and an attempt budget for wrong codes; a code dies after
`DUEPROCESS_CODE_MAX_ATTEMPTS` wrong attempts, and refused codes are logged only in
aggregate (`notifications.public.count_guesses`). The voting window is measured on the
system clock when dueprocess receives the vote, never on a time the voter sends; votes
received together are stored together (`programme.vote_intake`), each its own log
record, and closing waits for them.
Closing the ballot writes the tally as the record that closes the ballot's log chain: an
exported ballot is complete, and anyone recounts it (`programme.recount`).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlmodel import Session, col, select

from dueprocess.clock import system_now
from dueprocess.contact_secrets import keyed_digest
from dueprocess.db import session_scope
from dueprocess.errors import NotFound, Refused
from dueprocess.journal import CaseEvent, publish
from dueprocess.services.identity import get_person, identity_problems, require_official
from dueprocess.services.refusal_audit import audited
from dueprocess.settings import get_code_settings
from models.one_time_codes import Assurance
from models.people import Role
from models.programme import Ballot, BallotCreate, Proposal, Roll, Vote, VoterCode, ballot_chain
from notifications.public import (
    CODE_TTL,
    CodeRefused,
    canonical_channel,
    code_text,
    log_counted_guesses,
    new_code,
    parse_code,
    secret_digest,
    send_code_to,
)
from programme.errors import RULES, refused
from programme.proposals import marks_of
from programme.vote_intake import PendingVote, enqueue

BALLOT_CLOSED = "ballot.closed"  # the event whose record closes the ballot's chain


def pseudonym(ballot_id: int, voter: str) -> str:
    """The voter's keyed pseudonym on this ballot (another ballot gives another)."""
    return keyed_digest(f"ballot-voter-{ballot_id}", voter)[:64]


def open_ballot_as(*, request: BallotCreate, actor: str, token: str | None,
                   channel: str) -> Ballot:
    with audited(case_id=f"programme-{request.year}", action="open_ballot", stage_key=None,
                 person=actor, channel=channel), session_scope() as session:
        _official(session, actor=actor, token=token, channel=channel)
        proposals = {p.id: p for p in session.exec(
            select(Proposal).where(col(Proposal.id).in_(request.options)))}
        missing = [i for i in request.options if i not in proposals]
        other_year = [i for i, p in proposals.items() if p.year != request.year]
        marked = [m.proposal_id for m in marks_of(session, request.options)]
        for rule, ids, why in (("BALLOT-OPTIONS", missing, "no such proposal"),
                               ("BALLOT-OPTIONS", other_year, f"not a {request.year} proposal"),
                               ("BALLOT-OPTIONS", marked, "merged or refused by moderation")):
            if ids:
                raise refused(rule, f"options: {', '.join(f'#{i}' for i in ids)}: {why}")
        ballot = Ballot(year=request.year, title=request.title, roll=request.roll.value,
                        choose_up_to=request.choose_up_to, opens_at=request.opens_at,
                        closes_at=request.closes_at, options=list(request.options),
                        created_by=actor, created_at=system_now(),
                        assurance=request.assurance_level().value,
                        attempt_budget=request.attempt_budget
                        or get_code_settings().ballot_attempt_budget)
        session.add(ballot)
        session.flush()
        session.expunge(ballot)
        return ballot


def _official(session: Session, *, actor: str, token: str | None, channel: str) -> None:
    require_official(session, actor=actor, token=token, channel=channel, rules=RULES,
                     rule="BALLOT-OFFICIAL", may="run ballots")


def get_ballot(session: Session, ballot_id: int) -> Ballot:
    ballot = session.get(Ballot, ballot_id)
    if ballot is None:
        raise NotFound(f"ballot #{ballot_id} does not exist")
    return ballot


def issue_code(*, ballot_id: int, channel_url: str, now: datetime | None = None) -> str:
    """A one-time code for the public voter controlling `channel_url` (canonicalised: one
    code per canonical channel, a new one replaces the last); the caller sends it to that
    channel (`send_code`). Only its digest is stored."""
    now = now or system_now()
    voter = pseudonym(ballot_id, canonical_channel(
        channel_url, plus_tags=get_code_settings().code_email_plus_tags))
    with session_scope() as session:
        ballot = get_ballot(session, ballot_id)
        if ballot.roll != Roll.PUBLIC:
            raise refused("VOTE-ROLL", f"ballot #{ballot_id} is for the {ballot.roll} roll: "
                                       "experts vote with their token")
        if ballot.assurance == Assurance.VERIFIED:
            raise refused("VOTE-ASSURANCE", f"ballot #{ballot_id} is for verified voters: "
                                            "it takes no one-time codes")
        # A channel that voted still gets a code (VOTE-ONCE refuses its vote): refusing
        # here would tell anyone who knows an address whether it voted.
        for live in session.exec(select(VoterCode).where(
                VoterCode.ballot_id == ballot_id, VoterCode.pseudonym == voter,
                col(VoterCode.used_at).is_(None), VoterCode.expires_at > now)):
            live.expires_at = now  # replaced: one live code per channel
            session.add(live)
        secret = new_code()
        row = VoterCode(ballot_id=ballot_id, pseudonym=voter,
                        code_sha256=code_digest(ballot_id, secret), expires_at=now + CODE_TTL)
        session.add(row)
        session.flush()
        assert row.id is not None
        return code_text(locator=row.id, secret=secret)


def code_digest(ballot_id: int, secret: str) -> str:
    """The stored digest of a code's secret part (its 8 digits)."""
    return secret_digest(str(ballot_id), secret)


def cast_public_vote(*, ballot_id: int, code: str, choices: list[int],
                     now: datetime | None = None) -> Vote:
    """Count a public voter's vote; the code is spent with it (`programme.vote_intake`).
    A refused code is counted in aggregate there, never audited alone."""
    # The locator names one code, so a guess spends that code's attempts: 5 guesses at
    # 10^8 secrets each, and the ballot's budget bounds the codes guessed at.
    locator, secret = parse_code(code) or (0, "")
    pending = PendingVote(ballot_id=ballot_id, choices=list(choices),
                          received_at=now or system_now(), code_id=locator,
                          code_sha256=code_digest(ballot_id, secret))
    answer = enqueue(pending)
    if isinstance(answer.exception(), CodeRefused):
        return answer.result()  # raises it
    with audited(case_id=ballot_chain(ballot_id), action="cast_vote", stage_key=None,
                 person=None, channel="portal"):
        return answer.result()


def cast_expert_vote(*, ballot_id: int, choices: list[int], actor: str, token: str | None,
                     channel: str, now: datetime | None = None) -> Vote:
    received_at = now or system_now()
    with audited(case_id=ballot_chain(ballot_id), action="cast_vote", stage_key=None,
                 person=actor, channel=channel):
        with session_scope() as session:
            ballot = get_ballot(session, ballot_id)
            problems = identity_problems(session, handle=actor, token=token, channel=channel)
            if problems:
                raise Refused(problems)
            if ballot.roll != Roll.EXPERT:
                raise refused("VOTE-ROLL", f"ballot #{ballot_id} is for the {ballot.roll} roll")
            if get_person(session, actor).role != Role.EXPERT:
                raise refused("VOTE-ROLL", f"'{actor}' is not on the expert roll")
        return enqueue(PendingVote(ballot_id=ballot_id, choices=list(choices),
                                   received_at=received_at,
                                   pseudonym=pseudonym(ballot_id, f"expert:{actor}"),
                                   assurance=Assurance.VERIFIED)).result()


def tally(session: Session, ballot: Ballot) -> dict[int, int]:
    """Votes per option, every option listed (also those with none)."""
    counts: Counter[int] = Counter()
    for (choices,) in session.execute(select(Vote.choices).where(Vote.ballot_id == ballot.id)):
        counts.update(choices)
    return {option: counts[option] for option in ballot.options}


def tally_by_assurance(session: Session, ballot: Ballot) -> dict[str, int]:
    """Votes at each assurance level, every level listed. An expert ballot's votes are
    verified (its credential), also those stored before votes carried their level."""
    counts: Counter[str] = Counter()
    for (level,) in session.execute(select(Vote.assurance).where(Vote.ballot_id == ballot.id)):
        counts[Assurance.VERIFIED.value if ballot.roll == Roll.EXPERT else level] += 1
    return {level.value: counts[level.value] for level in Assurance}


def close_ballot_as(*, ballot_id: int, actor: str, token: str | None, channel: str,
                    now: datetime | None = None) -> dict[int, int]:
    """Close a ballot after its window: the tally is logged as the record that closes the
    ballot's chain, so no vote can be added after it."""
    now = now or system_now()
    with audited(case_id=ballot_chain(ballot_id), action="close_ballot", stage_key=None,
                 person=actor, channel=channel), session_scope() as session:
        _official(session, actor=actor, token=token, channel=channel)
        ballot = session.exec(select(Ballot).where(Ballot.id == ballot_id)
                              .with_for_update()).first()
        if ballot is None:
            raise NotFound(f"ballot #{ballot_id} does not exist")
        if ballot.closed_at is not None:
            raise refused("BALLOT-CLOSE", f"ballot #{ballot_id} was closed at "
                                          f"{ballot.closed_at:%Y-%m-%d %H:%M} UTC")
        if now < ballot.closes_at:
            raise refused("BALLOT-CLOSE", f"ballot #{ballot_id} takes votes until "
                                          f"{ballot.closes_at:%Y-%m-%d %H:%M} UTC")
        counts = tally(session, ballot)
        levels = tally_by_assurance(session, ballot)
        log_counted_guesses(session, chain=ballot_chain(ballot_id), now=now)  # the last minute
        ballot.closed_at = now
        session.add(ballot)
        session.flush()
        votes = session.exec(select(Vote.id).where(Vote.ballot_id == ballot_id)).all()
        publish(session, CaseEvent(
            case_id=ballot_chain(ballot_id), kind=BALLOT_CLOSED, occurred_at=now,
            person=actor, subject_id=ballot_id,
            body={"ballot_id": ballot_id, "votes": len(votes),
                  "tally": {str(k): v for k, v in counts.items()},
                  "votes_by_assurance": levels}))
        return counts


def send_code(*, ballot_id: int, channel_url: str) -> str:
    """Issue a one-time code for the voter controlling `channel_url` and deliver it there;
    returns the channel in privacy form. That is the public roll's verification."""
    return send_code_to(
        channel_url=channel_url, title=f"Ballot #{ballot_id}: your voting code",
        purpose=f"for ballot #{ballot_id}", rule="VOTE-VERIFIED", rules=RULES,
        issue=lambda canonical: issue_code(ballot_id=ballot_id, channel_url=canonical))
