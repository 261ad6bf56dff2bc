"""The ballots on the portal: a year's ballots, one ballot's options and window, and for a
public-roll ballot the vote itself — a one-time code sent through Apprise to a channel the
voter controls, then the code and the choices (up to the ballot's N). After the close the
page shows the tally. Experts vote on the expert roll with their token
(`dueprocess programme vote-expert`), never here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import HTMLResponse
from sqlmodel import col, func, select

from dueprocess.clock import system_now
from dueprocess.db import session_scope
from dueprocess.errors import NotFound
from dueprocess.web.errors import BadEncoding
from dueprocess.web.forms import FormPairs, form_answer, message
from dueprocess.web.i18n import words
from dueprocess.web.language import chosen_language, language_query
from dueprocess.web.rendering import page
from models.programme import Ballot, Proposal, Roll, Vote
from programme.ballots import (
    cast_public_vote,
    get_ballot,
    send_code,
    tally,
    tally_by_assurance,
)
from programme.receipts import receipt_id
from programme.resident_login import logged_in

router = APIRouter(prefix="/programme/ballots", include_in_schema=False,
                   dependencies=[Depends(language_query)])
BallotId = Annotated[int, Path(ge=1)]


@dataclass(frozen=True)
class BallotView:
    ballot: Ballot
    options: list[Proposal]
    status: str  # upcoming, open, ended, closed
    tally: dict[int, int] | None  # after the close
    votes: int | None
    by_assurance: dict[str, int] | None  # votes at each assurance level, after the close


def _status(ballot: Ballot, now: datetime) -> str:
    if ballot.closed_at is not None:
        return "closed"
    if now < ballot.opens_at:
        return "upcoming"
    return "open" if now < ballot.closes_at else "ended"


def ballot_view(ballot_id: int) -> BallotView:
    with session_scope() as session:
        ballot = get_ballot(session, ballot_id)
        proposals = {p.id: p for p in session.exec(select(Proposal).where(
            col(Proposal.id).in_(ballot.options)))}
        counts = votes = levels = None
        if ballot.closed_at is not None:  # counts are public once the ballot is closed
            counts = tally(session, ballot)
            levels = tally_by_assurance(session, ballot)
            votes = session.exec(select(func.count()).select_from(Vote).where(
                Vote.ballot_id == ballot_id)).one()
        session.expunge_all()
    return BallotView(ballot, [proposals[o] for o in ballot.options if o in proposals],
                      _status(ballot, system_now()), counts, votes, levels)


@router.get("/year/{year}", response_class=HTMLResponse)
def ballots_page(request: Request, year: Annotated[int, Path(ge=2000, le=2100)]) -> Response:
    with session_scope() as session:
        ballots = list(session.exec(select(Ballot).where(Ballot.year == year)
                                    .order_by(col(Ballot.id))))
        session.expunge_all()
    now = system_now()
    return page(request, "programme_ballots.html", {
        "year": year,
        "ballots": [(b, _status(b, now)) for b in ballots]})


@router.get("/{ballot_id}", response_class=HTMLResponse)
def ballot_page(request: Request, ballot_id: BallotId) -> Response:
    try:
        view = ballot_view(ballot_id)
    except NotFound:
        _ = words(request)
        return message(request, _("No such ballot"), status=404, error=True)
    return page(request, "programme_ballot.html", {
        "view": view, "public": view.ballot.roll == Roll.PUBLIC,
        "resident": logged_in(request) is not None})


@router.post("/{ballot_id}/code")
async def code_post(request: Request, ballot_id: BallotId) -> Response:
    _ = words(request)

    def send(pairs: FormPairs) -> str:
        channel = send_code(ballot_id=ballot_id, channel_url=dict(pairs).get("url", ""),
                            language=chosen_language(request))
        return _("A code was sent to {channel}; it is valid for 15 minutes.").format(
            channel=channel)

    return await form_answer(request, back=f"/programme/ballots/{ballot_id}", act=send,
                             status=202)


@router.post("/{ballot_id}/votes")
async def vote_post(request: Request, ballot_id: BallotId) -> Response:
    _ = words(request)

    def vote(pairs: FormPairs) -> str:
        choices = [value for name, value in pairs if name == "choice"]
        if not all(value.isdigit() for value in choices):
            raise BadEncoding("choice: each choice is an option's number")
        code = next((value for name, value in pairs if name == "code"), "")
        cast = cast_public_vote(ballot_id=ballot_id, code=code,
                                choices=[int(value) for value in choices])
        assert cast.id is not None
        return _("Your vote is counted. Your pseudonym: {pseudonym}. Your receipt id: "
                 "{receipt}; within a minute its receipt is at /programme/receipts/{receipt}, "
                 "which you can check at /programme/receipts/check").format(
            pseudonym=cast.pseudonym[:16],
            receipt=receipt_id(ballot_id=ballot_id, vote_id=cast.id))

    return await form_answer(request, back=f"/programme/ballots/{ballot_id}", act=vote,
                             status=201)
