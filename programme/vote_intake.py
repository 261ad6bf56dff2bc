"""Vote intake by group commit: votes sent at the same time are stored together.

A request hands its vote (the digest of a public voter's code, or an expert's pseudonym)
to the process's writers and waits for it (`dueprocess.group_commit`). A writer takes
every vote waiting and, in one transaction: spends each code (valid, unused, unexpired
when the vote arrived), checks the window on the time dueprocess received the vote, the
choices and one vote per pseudonym (also within the batch), stores the accepted votes
and publishes one `vote.cast` per vote, so each vote is its own record on the ballot's
log chain. A vote refused is answered with its rule; the caller audits it. Should a
concurrent writer have stored a vote of the same voter, the batch is stored again one
vote at a time, so only that vote is refused.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError, NotFound
from dueprocess.group_commit import GroupCommit
from dueprocess.journal import CaseEvent, publish
from models.programme import Ballot, Vote, VoterCode, ballot_chain
from programme.errors import refused

VOTE_CAST = "vote.cast"


@dataclass(eq=False)
class PendingVote:
    ballot_id: int
    choices: list[int]
    received_at: datetime  # dueprocess's clock when the vote arrived
    code_sha256: str | None = None  # a public voter's code, by its digest
    pseudonym: str | None = None  # an expert's, known when the vote arrives
    future: Future[Vote] = field(default_factory=Future)


def vote_problem(ballot: Ballot, choices: list[int], at: datetime) -> DueProcessError | None:
    """Why a vote on `ballot` received `at` cannot count (window and choices)."""
    if ballot.closed_at is not None or not ballot.opens_at <= at < ballot.closes_at:
        return refused("VOTE-WINDOW", f"ballot #{ballot.id} takes votes from "
                       f"{ballot.opens_at:%Y-%m-%d %H:%M:%S} to "
                       f"{ballot.closes_at:%Y-%m-%d %H:%M:%S} UTC; it is now "
                       f"{at:%Y-%m-%d %H:%M:%S} UTC")
    if not choices or len(set(choices)) != len(choices):
        return refused("VOTE-CHOICES", "choices: choose at least one option, each once")
    if len(choices) > ballot.choose_up_to:
        return refused("VOTE-CHOICES", f"choices: {len(choices)} chosen, the ballot allows "
                       f"up to {ballot.choose_up_to}")
    unknown = [c for c in choices if c not in ballot.options]
    if unknown:
        return refused("VOTE-CHOICES", f"choices: {', '.join(f'#{c}' for c in unknown)} not "
                       "on the ballot")
    return None


def _once(ballot_id: int) -> DueProcessError:
    return refused("VOTE-ONCE", f"this voter has already voted on ballot #{ballot_id}")


def _store(batch: list[PendingVote]) -> None:
    waiting = [p for p in batch if not p.future.done()]
    try:
        _store_together(waiting)
    except IntegrityError:  # a concurrent writer stored a vote of one of these voters
        for pending in waiting:
            if pending.future.done():
                continue
            try:
                _store_together([pending])
            except IntegrityError:
                pending.future.set_exception(_once(pending.ballot_id))


def _store_together(batch: list[PendingVote]) -> None:
    answers: list[tuple[PendingVote, Vote | DueProcessError]] = []
    with session_scope() as session:
        # FOR SHARE: closing a ballot (FOR UPDATE) waits for the votes being stored, and
        # a batch after the close sees it closed, so no vote follows the tally.
        ballots = {b.id: b for b in session.exec(select(Ballot).where(
            col(Ballot.id).in_({p.ballot_id for p in batch})).with_for_update(read=True))}
        codes = _codes(session, batch)
        voters = {(p.ballot_id, p.pseudonym) for p in batch if p.pseudonym} | {
            (c.ballot_id, c.pseudonym) for c in codes.values()}
        voted = set(session.exec(select(Vote.ballot_id, Vote.pseudonym).where(
            col(Vote.ballot_id).in_({b for b, _ in voters}),
            col(Vote.pseudonym).in_({v for _, v in voters}))).all())
        stored: list[tuple[PendingVote, Vote]] = []
        for pending in batch:
            outcome = _accept(session, pending, ballots.get(pending.ballot_id), codes, voted)
            if isinstance(outcome, Vote):
                stored.append((pending, outcome))
            else:
                answers.append((pending, outcome))
        session.flush()
        for _, vote in stored:
            publish(session, CaseEvent(case_id=ballot_chain(vote.ballot_id), kind=VOTE_CAST,
                                       occurred_at=vote.cast_at, subject_id=vote.id))
        # What the caller gets: a copy, the rows stay with the session until it commits.
        answers += [(pending, Vote(**vote.model_dump())) for pending, vote in stored]
    for pending, answer in answers:
        if isinstance(answer, Vote):
            pending.future.set_result(answer)
        else:
            pending.future.set_exception(answer)


def _codes(session: Session, batch: list[PendingVote]) -> dict[tuple[int, str], VoterCode]:
    digests = {p.code_sha256 for p in batch if p.code_sha256}
    if not digests:
        return {}
    rows = session.exec(select(VoterCode).where(col(VoterCode.code_sha256).in_(digests)))
    return {(row.ballot_id, row.code_sha256): row for row in rows}


def _accept(session: Session, pending: PendingVote, ballot: Ballot | None,
            codes: dict[tuple[int, str], VoterCode],
            voted: set[tuple[int, str]]) -> Vote | DueProcessError:
    if ballot is None or ballot.id is None:
        return NotFound(f"ballot #{pending.ballot_id} does not exist")
    voter = pending.pseudonym
    code = codes.get((ballot.id, pending.code_sha256 or ""))
    if pending.code_sha256 is not None:
        if code is None or code.used_at is not None or code.expires_at < pending.received_at:
            return refused("VOTE-VERIFIED", "code: not a valid, unused and unexpired code "
                           f"for ballot #{ballot.id}")
        voter = code.pseudonym
    assert voter is not None
    problem = vote_problem(ballot, pending.choices, pending.received_at)
    if problem is not None:
        return problem
    if (ballot.id, voter) in voted:
        return _once(ballot.id)
    voted.add((ballot.id, voter))
    if code is not None:
        code.used_at = pending.received_at
        session.add(code)
    vote = Vote(ballot_id=ballot.id, pseudonym=voter, choices=sorted(pending.choices),
                cast_at=pending.received_at)
    session.add(vote)
    return vote


_writer: GroupCommit[PendingVote] = GroupCommit("vote-intake", _store)


def enqueue(pending: PendingVote) -> Future[Vote]:
    return _writer.submit(pending)
