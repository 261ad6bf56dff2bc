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
from models.programme import Ballot, Proposal, Roll, Vote
from dueprocess.web.errors import BadEncoding
from dueprocess.web.language import chosen_language, language_query
from portal.pages import FormPairs, form_answer, message
from dueprocess.web.rendering import page
from programme.ballots import cast_public_vote, get_ballot, send_code, tally

router = APIRouter(prefix="/programme/ballots", include_in_schema=False,
                   dependencies=[Depends(language_query)])
BallotId = Annotated[int, Path(ge=1)]
WORDS = {
    "zh-CN": {
        "ballots": "实事项目投票", "ballot": "投票", "roll": "投票人", "public": "群众",
        "expert": "专家", "window": "投票时间", "choose": "最多选择 {n} 项",
        "options": "候选项目", "votes": "票数", "status": "状态", "upcoming": "尚未开始",
        "open": "投票中", "ended": "已截止，待计票", "closed": "已计票",
        "url": "接收验证码的渠道（Apprise 地址，如 mailto://…）", "send_code": "发送验证码",
        "code": "验证码", "vote": "投票", "none": "本年度没有投票",
        "code_sent": "验证码已发送至 {channel}，15 分钟内有效。",
        "counted": "您的投票已计入。您的匿名编号：{pseudonym}（可在公开的投票记录中核对）",
        "experts_vote": "专家名册投票由专家凭个人凭证进行，不在此页面投票。",
        "no_ballot": "没有该投票", "too_many": "提交过于频繁，请 {seconds} 秒后再试",
        "tally": "计票结果", "total": "有效票",
    },
    "en": {
        "ballots": "Ballots on the practical matters", "ballot": "Ballot", "roll": "Roll",
        "public": "public", "expert": "experts", "window": "Voting window",
        "choose": "choose up to {n}", "options": "Options", "votes": "Votes",
        "status": "Status", "upcoming": "not open yet", "open": "open",
        "ended": "ended, not counted yet", "closed": "counted",
        "url": "Channel for your code (an Apprise address, e.g. mailto://…)",
        "send_code": "Send me a code", "code": "Code", "vote": "Vote",
        "none": "No ballots this year",
        "code_sent": "A code was sent to {channel}; it is valid for 15 minutes.",
        "counted": "Your vote is counted. Your pseudonym: {pseudonym} (check it in the "
                   "published ballot)",
        "experts_vote": "The expert roll votes with each expert's credential, not on "
                        "this page.",
        "no_ballot": "No such ballot", "too_many": "Too many submissions; try again in "
                                                   "{seconds} s",
        "tally": "Tally", "total": "Valid votes",
    },
}


@dataclass(frozen=True)
class BallotView:
    ballot: Ballot
    options: list[Proposal]
    status: str  # upcoming, open, ended, closed
    tally: dict[int, int] | None  # after the close
    votes: int | None


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
        counts = votes = None
        if ballot.closed_at is not None:  # counts are public once the ballot is closed
            counts = tally(session, ballot)
            votes = session.exec(select(func.count()).select_from(Vote).where(
                Vote.ballot_id == ballot_id)).one()
        session.expunge_all()
    return BallotView(ballot, [proposals[o] for o in ballot.options if o in proposals],
                      _status(ballot, system_now()), counts, votes)


def _words(request: Request) -> dict[str, str]:
    return WORDS[chosen_language(request)]


@router.get("/year/{year}", response_class=HTMLResponse)
def ballots_page(request: Request, year: Annotated[int, Path(ge=2000, le=2100)]) -> Response:
    with session_scope() as session:
        ballots = list(session.exec(select(Ballot).where(Ballot.year == year)
                                    .order_by(col(Ballot.id))))
        session.expunge_all()
    now = system_now()
    return page(request, "programme_ballots.html", {
        "p": _words(request), "year": year,
        "ballots": [(b, _status(b, now)) for b in ballots]})


@router.get("/{ballot_id}", response_class=HTMLResponse)
def ballot_page(request: Request, ballot_id: BallotId) -> Response:
    try:
        view = ballot_view(ballot_id)
    except NotFound:
        return message(request, _words(request)["no_ballot"], status=404, error=True)
    return page(request, "programme_ballot.html", {
        "p": _words(request), "view": view, "public": view.ballot.roll == Roll.PUBLIC})


@router.post("/{ballot_id}/code")
async def code_post(request: Request, ballot_id: BallotId) -> Response:
    words = _words(request)

    def send(pairs: FormPairs) -> str:
        channel = send_code(ballot_id=ballot_id, channel_url=dict(pairs).get("url", ""))
        return words["code_sent"].format(channel=channel)

    return await form_answer(request, back=f"/programme/ballots/{ballot_id}", act=send,
                             status=202, too_many_text=words["too_many"])


@router.post("/{ballot_id}/votes")
async def vote_post(request: Request, ballot_id: BallotId) -> Response:
    words = _words(request)

    def vote(pairs: FormPairs) -> str:
        choices = [value for name, value in pairs if name == "choice"]
        if not all(value.isdigit() for value in choices):
            raise BadEncoding("choice: each choice is an option's number")
        code = next((value for name, value in pairs if name == "code"), "")
        cast = cast_public_vote(ballot_id=ballot_id, code=code,
                                choices=[int(value) for value in choices])
        return words["counted"].format(pseudonym=cast.pseudonym[:16])

    return await form_answer(request, back=f"/programme/ballots/{ballot_id}", act=vote,
                             status=201, too_many_text=words["too_many"])
