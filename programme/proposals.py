"""Residents' proposals ("我要提实事") and their moderation.

Anyone may submit a proposal and gets a receipt. Moderation never deletes or edits one:
an official marks it (a duplicate merged into another, or refused as out of scope) with
a reason that is published beside it. Proposals and marks are log records on the
programme year's chain.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from dueprocess.clock import system_now
from dueprocess.contact_secrets import keyed_digest
from dueprocess.db import session_scope
from dueprocess.errors import NotFound, Refused
from dueprocess.rules.engine import Unmet
from dueprocess.services.identity import require_official
from dueprocess.services.refusal_audit import audited
from models.programme import MarkCreate, MarkKind, Proposal, ProposalCreate, ProposalMark
from models.programme import programme_chain as chain
from programme.errors import RULES


def submit_proposal(*, request: ProposalCreate, client: str,
                    now: datetime | None = None) -> Proposal:
    """Store a resident's proposal for the current year; its receipt number is returned."""
    now = now or system_now()
    with session_scope() as session:
        proposal = Proposal(
            year=now.year, receipt_number=f"P{now:%Y%m%d}-{secrets.token_hex(4).upper()}",
            category=request.category, level=request.level.value, street=request.street,
            place=request.place, description=request.description, author=request.author,
            client_digest=keyed_digest("proposal-client", client)[:64], submitted_at=now)
        session.add(proposal)
        session.flush()
        session.expunge(proposal)
        return proposal


def moderate_as(*, proposal_id: int, mark: MarkCreate, actor: str, token: str | None,
                channel: str, now: datetime | None = None) -> ProposalMark:
    """Mark a proposal (merge a duplicate, refuse one out of scope); `Refused` names the
    rule, and the refusal is audited on the programme year's chain."""
    with session_scope() as session:
        proposal = _proposal(session, proposal_id)
        year = proposal.year
    with audited(case_id=chain(year), action="moderate_proposal", stage_key=None,
                 person=actor, channel=channel), session_scope() as session:
        require_official(session, actor=actor, token=token, channel=channel, rules=RULES,
                           rule="PROPOSAL-MODERATOR", may="moderate proposals")
        if mark.kind is MarkKind.SHORTLISTED:
            raise Refused([Unmet("PROPOSAL-MODERATOR", RULES, "kind: a proposal is "
                                 "shortlisted by putting it on a ballot, not by hand")])
        earlier = marks_of(session, [proposal_id])
        if earlier:
            raise Refused([Unmet("PROPOSAL-MARKED-ONCE", RULES, f"proposal #{proposal_id} is "
                                 f"already marked {earlier[0].kind}: {earlier[0].reason}")])
        if mark.merged_into is not None:
            target = _proposal(session, mark.merged_into)
            if target.id == proposal_id or target.year != year:
                raise Refused([Unmet("PROPOSAL-MERGE", RULES, f"merged_into: #{target.id} is "
                                     "not another proposal of the same year")])
            if marks_of(session, [mark.merged_into]):
                raise Refused([Unmet("PROPOSAL-MERGE", RULES, f"merged_into: #{target.id} is "
                                     "itself merged or refused; merge into an open proposal")])
        row = ProposalMark(proposal_id=proposal_id, year=year, kind=mark.kind.value,
                           reason=mark.reason, merged_into=mark.merged_into, marked_by=actor,
                           marked_at=now or system_now())
        session.add(row)
        session.flush()
        session.expunge(row)
        return row


def _proposal(session: Session, proposal_id: int) -> Proposal:
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound(f"proposal #{proposal_id} does not exist")
    return proposal


def marks_of(session: Session, proposal_ids: Sequence[int]) -> list[ProposalMark]:
    return list(session.exec(select(ProposalMark).where(
        col(ProposalMark.proposal_id).in_(proposal_ids)).order_by(col(ProposalMark.id))))


@dataclass(frozen=True)
class PublicProposal:
    """A proposal as the portal shows it, with its published mark."""

    proposal: Proposal
    mark: ProposalMark | None


def proposals_of_year(*, year: int, limit: int = 100,
                      after: int = 0) -> list[PublicProposal]:
    with session_scope() as session:
        rows = list(session.exec(select(Proposal).where(
            Proposal.year == year, col(Proposal.id) > after)
            .order_by(col(Proposal.id)).limit(limit)))
        marks = {m.proposal_id: m for m in marks_of(session, [p.id for p in rows if p.id])}
        for row in [*rows, *marks.values()]:
            session.expunge(row)
        return [PublicProposal(p, marks.get(p.id or 0)) for p in rows]
