"""Vote intake by group commit: votes sent at the same time are stored together.

A request hands its vote (a public voter's code, by its locator and the digest of its
secret, or an expert's pseudonym) to the process's writers and waits for it
(`dueprocess.group_commit`). A writer takes every vote waiting and, in one transaction:
judges each code (the ballot takes codes and has attempt budget left; the code is the
ballot's, alive, right, unused and unexpired when the vote arrived; a wrong one spends
one of its attempts), counts the refused guesses in aggregate
(`notifications.public.count_guesses`), spends each right code, checks the window on the
time dueprocess received the vote, the
choices and one vote per pseudonym (also within the batch), stores the accepted votes
and publishes one `vote.cast` per vote, so each vote is its own record on the ballot's
log chain. A vote refused is answered with its rule; the caller audits it, but for a
refused code (`CodeRefused`), counted here in aggregate and never audited alone. Should a
concurrent writer have stored a vote of the same voter, the batch is stored again one
vote at a time, so only that vote is refused.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError, NotFound
from dueprocess.group_commit import GroupCommit
from dueprocess.journal import CaseEvent, publish
from dueprocess.rules.engine import Unmet
from dueprocess.settings import get_code_settings
from models.one_time_codes import Assurance
from models.programme import Ballot, Vote, VoterCode, ballot_chain
from notifications.public import CodeRefused, count_guesses, digest_matches, guesses_spent
from programme.errors import RULES, refused

VOTE_CAST = "vote.cast"


@dataclass(eq=False)
class PendingVote:
    ballot_id: int
    choices: list[int]
    received_at: datetime  # dueprocess's clock when the vote arrived
    code_id: int | None = None  # a public voter's code, by its locator (0: malformed)
    code_sha256: str | None = None  # ... and the digest of its secret
    pseudonym: str | None = None  # an expert's, known when the vote arrives
    assurance: Assurance = Assurance.CHANNEL
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
        guesses = _Guesses(spent={b: guesses_spent(session, ballot_chain(b)) for b in {
            p.ballot_id for p in batch if p.code_id is not None}},
            limit=get_code_settings().code_max_attempts)
        voters = {(p.ballot_id, p.pseudonym) for p in batch if p.pseudonym} | {
            (c.ballot_id, c.pseudonym) for c in codes.values()}
        voted = set(session.exec(select(Vote.ballot_id, Vote.pseudonym).where(
            col(Vote.ballot_id).in_({b for b, _ in voters}),
            col(Vote.pseudonym).in_({v for _, v in voters}))).all())
        stored: list[tuple[PendingVote, Vote]] = []
        for pending in batch:
            outcome = _accept(session, pending, ballots.get(pending.ballot_id), codes, voted,
                              guesses)
            if isinstance(outcome, Vote):
                stored.append((pending, outcome))
            else:
                answers.append((pending, outcome))
        session.flush()
        guesses.count(session)
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


def _codes(session: Session, batch: list[PendingVote]) -> dict[int, VoterCode]:
    locators = {p.code_id for p in batch if p.code_id}
    if not locators:
        return {}
    # FOR UPDATE, in id order (no two writers wait on each other): a wrong guess counts
    # against its code once, whichever writer takes it.
    return {row.id or 0: row for row in session.exec(
        select(VoterCode).where(col(VoterCode.id).in_(locators)).order_by(col(VoterCode.id))
        .with_for_update())}


@dataclass
class _Guesses:
    """A batch's refused guesses: each ballot's spent budget, and what to count; `limit`,
    the wrong attempts a code takes, read once per batch."""

    spent: dict[int, int]
    limit: int
    refused: Counter[tuple[int, datetime]] = field(default_factory=Counter)

    def add(self, ballot_id: int, at: datetime) -> None:
        self.spent[ballot_id] = self.spent.get(ballot_id, 0) + 1
        self.refused[(ballot_id, at.replace(second=0, microsecond=0))] += 1

    def count(self, session: Session) -> None:
        for (ballot_id, minute), count in sorted(self.refused.items()):
            count_guesses(session, chain=ballot_chain(ballot_id), count=count, at=minute)


def _guess_refused(rule: str, message: str) -> CodeRefused:
    return CodeRefused([Unmet(rule, RULES, message)])


def code_problem(ballot: Ballot, code: VoterCode | None, pending: PendingVote,
                 spent: int, limit: int) -> CodeRefused | None:
    """Why a code does not let this vote in; a wrong code spends one of its `limit`
    attempts."""
    if ballot.assurance == Assurance.VERIFIED:
        return _guess_refused("VOTE-ASSURANCE", f"ballot #{ballot.id} is for verified "
                              "voters: it takes no one-time codes")
    if spent >= ballot.attempt_budget:
        return _guess_refused("VOTE-GUESS-BUDGET", f"code: ballot #{ballot.id} has refused "
                              f"{ballot.attempt_budget} wrong codes, its attempt budget; it "
                              "takes no code any more")
    if code is None or code.ballot_id != ballot.id:
        return _guess_refused("VOTE-VERIFIED", "code: not a valid, unused and unexpired "
                              f"code for ballot #{ballot.id}")
    if code.attempts >= limit:
        return _guess_refused("VOTE-CODE-ATTEMPTS", f"code: refused after {limit} wrong "
                              "attempts; ask for a new code")
    if not digest_matches(code.code_sha256, pending.code_sha256 or ""):
        code.attempts += 1
        if code.attempts >= limit:
            return _guess_refused("VOTE-CODE-ATTEMPTS", f"code: wrong, attempt {limit} of "
                                  f"{limit}: the code is dead; ask for a new code")
        return _guess_refused("VOTE-VERIFIED", f"code: wrong (attempt {code.attempts} of "
                              f"{limit}), or not a code for ballot #{ballot.id}")
    if code.used_at is not None or code.expires_at < pending.received_at:
        return _guess_refused("VOTE-VERIFIED", "code: used, replaced or expired; ask for a "
                              "new code")
    return None


def _accept(session: Session, pending: PendingVote, ballot: Ballot | None,
            codes: dict[int, VoterCode], voted: set[tuple[int, str]],
            guesses: _Guesses) -> Vote | DueProcessError:
    if ballot is None or ballot.id is None:
        return NotFound(f"ballot #{pending.ballot_id} does not exist")
    voter = pending.pseudonym
    code = codes.get(pending.code_id or 0)
    if pending.code_id is not None:
        guess = code_problem(ballot, code, pending, guesses.spent.get(ballot.id, 0),
                             guesses.limit)
        if guess is not None:  # a wrong code's spent attempt is committed with the batch
            guesses.add(ballot.id, pending.received_at)
            return guess
        assert code is not None
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
                cast_at=pending.received_at, assurance=pending.assurance.value)
    session.add(vote)
    return vote


_writer: GroupCommit[PendingVote] = GroupCommit("vote-intake", _store)


def enqueue(pending: PendingVote) -> Future[Vote]:
    return _writer.submit(pending)
