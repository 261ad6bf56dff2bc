"""The year's list of practical matters, decided through the Decree 713 procedure.

Closing a ballot gives the tally; the official opens the list case from it: the draft is
the shortlist (the proposals with the most votes, ties by submission order), written
from the stored proposals and votes and never typed again, and the rest of the case
(organ, people, panels, assignments) comes from a case file like any other. The link
(year, ballot, case, the proposals on the list) is a logged row on the programme year's
chain, stored in the transaction that opens the case. Adding or removing an item during
the year is a revision: a new list case that names the decided one it revises, so the
change goes through the whole procedure again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from dueprocess.clock import system_now
from dueprocess.db import session_scope
from dueprocess.errors import NotFound
from dueprocess.services.case_opening import open_case_as
from dueprocess.services.cases import validate_case_request
from dueprocess.services.identity import require_official
from dueprocess.services.refusal_audit import audited
from models.cases import CaseStatus, DecisionCase
from models.programme import Ballot, ProgrammeList, Proposal, programme_chain
from programme.ballots import get_ballot, tally
from programme.errors import RULES, refused
from programme.proposals import marks_of

GENERATED = ("title", "draft")  # made from the stored proposals, never from the file


def shortlist(session: Session, ballot: Ballot, size: int) -> list[tuple[Proposal, int]]:
    """The `size` options with the most votes (ties by proposal id), with their votes."""
    counts = tally(session, ballot)
    chosen = sorted(counts, key=lambda option: (-counts[option], option))[:size]
    proposals = {p.id: p for p in session.exec(select(Proposal).where(
        col(Proposal.id).in_(chosen)))}
    return [(proposals[option], counts[option]) for option in chosen]


def list_draft(year: int, entries: Sequence[tuple[Proposal, int | None]],
               *, revision: bool = False) -> dict[str, str]:
    lines = [f"{n}. {p.description} — {p.place} ({p.street or p.level}; {p.category}; "
             f"proposal #{p.id}" + (f"; {votes} votes)" if votes is not None else ")")
             for n, (p, votes) in enumerate(entries, start=1)]
    kind = "revised list" if revision else "list"
    return {"title": f"{list_title(year)}: draft {kind}", "text": "\n".join(lines)}


def list_title(year: int) -> str:
    return f"Practical matters for the people {year} (为民办实事项目)"


def _check_file(case_file: dict[str, Any]) -> None:
    given = [name for name in GENERATED if name in case_file]
    if given:
        raise refused("LIST-FILE", f"{', '.join(given)}: made from the ballot's stored "
                      "proposals and votes; leave it out of the case file")


def _official(session: Session, *, case_file: dict[str, Any], token: str | None,
              channel: str) -> str:
    actor = str(case_file.get("opened_by") or "")
    require_official(session, actor=actor, token=token, channel=channel, rules=RULES,
                     rule="LIST-OFFICIAL", may="open the programme's list case")
    return actor


def _open(*, year: int, ballot_id: int, case_file: dict[str, Any], draft: dict[str, str],
          proposals: list[int], revises: str | None, actor: str, token: str | None,
          channel: str) -> DecisionCase:
    title = list_title(year) + (" — revision" if revises else "")
    request = validate_case_request({**case_file, "title": title, "draft": draft},
                                    source="list case file")

    def link(session: Session, case: DecisionCase) -> None:
        session.add(ProgrammeList(year=year, ballot_id=ballot_id, case_id=case.id,
                                  proposals=proposals, revises=revises, opened_by=actor,
                                  opened_at=system_now()))

    return open_case_as(request=request, token=token, channel=channel, also=link)


def open_list_case_as(*, ballot_id: int, list_size: int, case_file: dict[str, Any],
                      token: str | None, channel: str) -> DecisionCase:
    """Open the year's list case from a closed ballot; its draft is the shortlist."""
    with session_scope() as session:
        year = get_ballot(session, ballot_id).year
    with audited(case_id=programme_chain(year), action="open_list_case", stage_key=None,
                 person=str(case_file.get("opened_by") or "") or None, channel=channel), \
            session_scope() as session:
        actor = _official(session, case_file=case_file, token=token, channel=channel)
        _check_file(case_file)
        ballot = get_ballot(session, ballot_id)
        if ballot.closed_at is None:
            raise refused("LIST-BALLOT-CLOSED", f"ballot #{ballot_id} is not closed: the "
                          "list is made from its final tally")
        if session.exec(select(ProgrammeList.id).where(
                ProgrammeList.ballot_id == ballot_id)).first() is not None:
            raise refused("LIST-ONCE", f"ballot #{ballot_id} already opened its list case; "
                          "change the decided list by a revision")
        if not 1 <= list_size <= len(ballot.options):
            raise refused("LIST-SIZE", f"list_size: {list_size} is not between 1 and the "
                          f"ballot's {len(ballot.options)} options")
        entries = shortlist(session, ballot, list_size)
        session.expunge_all()
    return _open(year=ballot.year, ballot_id=ballot_id, case_file=case_file,
                 draft=list_draft(ballot.year, entries),
                 proposals=[p.id or 0 for p, _ in entries], revises=None, actor=actor,
                 token=token, channel=channel)


def list_of_case(session: Session, case_id: str) -> ProgrammeList | None:
    return session.exec(select(ProgrammeList).where(ProgrammeList.case_id == case_id)).first()


def revise_list_as(*, case_id: str, add: Sequence[int], remove: Sequence[int],
                   case_file: dict[str, Any], token: str | None,
                   channel: str) -> DecisionCase:
    """Open a revision of the decided list `case_id`: the same list with `add` and
    without `remove`, decided through the procedure again."""
    with session_scope() as session:
        previous = list_of_case(session, case_id)
        if previous is None:
            raise NotFound(f"case '{case_id}' is not a programme list case")
        year = previous.year
    with audited(case_id=programme_chain(year), action="revise_list", stage_key=None,
                 person=str(case_file.get("opened_by") or "") or None, channel=channel), \
            session_scope() as session:
        actor = _official(session, case_file=case_file, token=token, channel=channel)
        _check_file(case_file)
        latest = session.exec(select(ProgrammeList).where(ProgrammeList.year == year)
                              .order_by(col(ProgrammeList.id).desc())).first()
        if latest is None or latest.case_id != case_id:
            raise refused("LIST-REVISION", f"case '{case_id}' is not the latest list of "
                          f"{year}: revise '{latest.case_id if latest else ''}'")
        case = session.get(DecisionCase, case_id)
        if case is None or case.status is CaseStatus.OPEN:
            raise refused("LIST-REVISION", f"case '{case_id}' is not decided yet: revise "
                          "its draft inside the procedure instead")
        _check_changes(session, year=year, listed=previous.proposals, add=add, remove=remove)
        kept = [p for p in previous.proposals if p not in remove] + list(add)
        proposals = {p.id: p for p in session.exec(select(Proposal).where(
            col(Proposal.id).in_(kept)))}
        entries: list[tuple[Proposal, int | None]] = [(proposals[p], None) for p in kept]
        session.expunge_all()
    return _open(year=year, ballot_id=previous.ballot_id, case_file=case_file,
                 draft=list_draft(year, entries, revision=True), proposals=kept,
                 revises=case_id, actor=actor, token=token, channel=channel)


def _check_changes(session: Session, *, year: int, listed: Sequence[int],
                   add: Sequence[int], remove: Sequence[int]) -> None:
    if not add and not remove:
        raise refused("LIST-REVISION", "add, remove: a revision changes at least one item")
    not_listed = [p for p in remove if p not in listed]
    if not_listed:
        raise refused("LIST-REVISION", f"remove: {', '.join(f'#{p}' for p in not_listed)} "
                      "not on the list")
    already = [p for p in add if p in listed]
    found = {p.id: p for p in session.exec(select(Proposal).where(col(Proposal.id).in_(add)))}
    wrong = [p for p in add if p not in found or found[p].year != year]
    marked = [m.proposal_id for m in marks_of(session, list(add))]
    for ids, why in ((already, "already on the list"), (wrong, f"not a {year} proposal"),
                     (marked, "merged or refused by moderation")):
        if ids:
            raise refused("LIST-REVISION", f"add: {', '.join(f'#{p}' for p in ids)} {why}")
