"""The participation evidence of a list case, filled in from what dueprocess holds.

The district promises that data it already holds is never typed again: the comment
window is the one dueprocess published, the opinions are the year's proposals (each
answered: on the list, merged, refused with its published reason, or not chosen by the
vote) and the comments the portal received on the draft list. What needs an official's
judgment is left open: comments on the draft get one response whose reason the
participation officer writes, and the evidence is recorded, like any other, by the
officer (`record`), where the rules check it again.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, func, select

from dueprocess.clock import last_day, local_date
from dueprocess.db import session_scope
from dueprocess.errors import NotFound
from dueprocess.services.stage_deadlines import comment_window_for
from dueprocess.settings import get_settings
from models.notices import Comment
from models.programme import Proposal, Vote
from notifications.public import case_url
from programme.list_case import list_of_case
from programme.proposals import marks_of

COMMENTS_ON_DRAFT = "Comments on the draft list received on the portal"


def participation_evidence(case_id: str) -> dict[str, Any]:
    """Public-participation evidence of a list case, once its comment window is open."""
    zone = get_settings().case_timezone
    with session_scope() as session:
        listed = list_of_case(session, case_id)
        if listed is None:
            raise NotFound(f"case '{case_id}' is not a programme list case")
        window = comment_window_for(session, case_id)
        if window is None:
            raise NotFound(f"case '{case_id}' has no published comment window yet")
        proposals = list(session.exec(select(Proposal).where(Proposal.year == listed.year)
                                      .order_by(col(Proposal.id))))
        marks = {m.proposal_id: m for m in marks_of(session, [p.id or 0 for p in proposals])}
        votes = session.exec(select(func.count()).select_from(Vote).where(
            Vote.ballot_id == listed.ballot_id)).one()
        comments = session.exec(select(func.count()).select_from(Comment).where(
            Comment.case_id == case_id)).one()
    responses = [_response(p, marks.get(p.id or 0), listed.proposals) for p in proposals]
    if comments:
        responses.append({"cluster": COMMENTS_ON_DRAFT, "opinions": comments,
                          "response": "partly_adopted", "reason": ""})  # the officer's
    on_list = sum(1 for r in responses if r["response"] == "adopted")
    opens = local_date(window.opens_at, zone).isoformat()
    return {
        "call_published_on": opens, "call_url": case_url(case_id),
        "published_materials": ["draft", "explanation"],
        "window_opens": opens, "window_closes": last_day(window.closes_at, zone).isoformat(),
        "specific_groups_affected": False,
        "opinions_received": len(proposals) + comments,
        "adoption_statement": (
            f"{len(proposals)} proposals were submitted for {listed.year} and {votes} votes "
            f"cast on ballot #{listed.ballot_id}; the draft lists the {len(listed.proposals)} "
            f"matters with the most votes. {on_list} proposals are answered as adopted (on "
            "the list, or merged into a listed one); the others are answered with their "
            "published moderation reason or their votes"
            + (f"; {comments} comments on the draft list are answered together." if comments
               else ".")),
        "responses": responses,
    }


def _response(proposal: Proposal, mark: Any, listed: list[int]) -> dict[str, Any]:
    gist = f"Proposal #{proposal.id} ({proposal.category}, {proposal.place})"
    if proposal.id in listed:
        return {"cluster": gist, "opinions": 1, "response": "adopted",
                "reason": "On the draft list by the vote."}
    if mark is not None and mark.merged_into in listed:
        return {"cluster": gist, "opinions": 1, "response": "adopted",
                "reason": f"Merged into proposal #{mark.merged_into}, which is on the list: "
                          f"{mark.reason}"}
    if mark is not None:
        return {"cluster": gist, "opinions": 1, "response": "not_adopted",
                "reason": f"Moderation ({mark.kind}): {mark.reason}"}
    return {"cluster": gist, "opinions": 1, "response": "not_adopted",
            "reason": "Not among the matters with the most votes on the ballot."}
