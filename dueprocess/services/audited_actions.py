"""What officials and experts do to a case besides recording evidence, as audited commands.

Each command authenticates the actor (a token on the token channels), checks their
permission, acts in one transaction, and on refusal leaves an audit record naming who,
what and which rule. The CLI and the API call these; the services they wrap
(`services.assignments`, `services.drafts`) take a session and trust their caller.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlmodel import Session

from dueprocess.db import session_scope
from dueprocess.errors import Refused
from dueprocess.journal import CaseEvent, publish
from dueprocess.rules.engine import Unmet
from dueprocess.rules.permissions import undertaking_official
from dueprocess.services import assignments, drafts
from dueprocess.services.case_snapshot import load_facts
from dueprocess.services.cases import get_case
from dueprocess.services.identity import identity_problems
from dueprocess.services.refusal_audit import audited
from models.base import utcnow
from models.cases import DecisionCase, DraftRevise, DraftVersion
from models.people import Assignment, InterestDeclaration, InterestDeclarationCreate, PanelNote


def _check_actor(session: Session, case: DecisionCase, *, actor: str, token: str | None,
                 channel: str, action: str, for_self: str | None = None) -> None:
    """Refuse an actor who is not authenticated, or who is not an official of the
    undertaking unit (nor `for_self`, a person acting for themselves)."""
    problems: list[Unmet] = identity_problems(session, handle=actor, token=token,
                                              channel=channel)
    if not problems and actor != for_self:
        problems = undertaking_official(load_facts(session, case, also=[actor]), actor, action)
        if problems and for_self is not None:
            problems = [Unmet("DECLARANT", "Art. 20",
                              f"'{actor}' may not {action}: only the expert or an official "
                              f"of the undertaking unit '{case.undertaking_unit}' may")]
    if problems:
        raise Refused(problems)


@contextmanager
def _acting(
    *, case_id: str, action: str, stage_key: str | None, actor: str, token: str | None,
    channel: str, now: datetime, permission: str | None, for_self: str | None = None,
) -> Iterator[tuple[Session, DecisionCase]]:
    """One audited transaction on the locked case, after the actor is authenticated and,
    with `permission`, allowed to do it."""
    with audited(case_id=case_id, action=action, stage_key=stage_key, person=actor,
                 channel=channel, now=now), session_scope() as session:
        case = get_case(session, case_id, lock=True)
        if permission is None:
            problems = identity_problems(session, handle=actor, token=token, channel=channel)
            if problems:
                raise Refused(problems)
        else:
            _check_actor(session, case, actor=actor, token=token, channel=channel,
                         action=permission, for_self=for_self)
        yield session, case


def revise_draft_as(
    *, case_id: str, revision: DraftRevise, actor: str, token: str | None = None,
    channel: str, now: datetime | None = None,
) -> DraftVersion:
    """An official of the undertaking unit revises the draft; the procedure reopens."""
    now = now or utcnow()
    with _acting(case_id=case_id, action="revision", stage_key=None, actor=actor,
                 token=token, channel=channel, now=now, permission=None) as (session, case):
        return drafts.revise(session, case=case, revision=revision, revised_by=actor, now=now)


def assign_as(
    *, case_id: str, stage_key: str, handle: str, actor: str, token: str | None = None,
    channel: str, now: datetime | None = None,
) -> Assignment:
    """An official of the undertaking unit assigns a person to a case stage."""
    now = now or utcnow()
    with _acting(case_id=case_id, action="assignment", stage_key=stage_key, actor=actor,
                 token=token, channel=channel, now=now,
                 permission="assign people") as (session, case):
        assignment = assignments.assign(session, case=case, stage_key=stage_key,
                                        handle=handle, now=now)
        publish(session, CaseEvent(
            case_id=case_id, kind="assignment.added", occurred_at=now, stage_key=stage_key,
            person=actor, subject_id=assignment.id, body={"assignee": handle},
        ))
        return assignment


def declare_interest_as(
    *, case_id: str, stage_key: str, handle: str, declaration: InterestDeclarationCreate,
    actor: str, token: str | None = None, channel: str, now: datetime | None = None,
) -> InterestDeclaration:
    """An expert declares their interests (or an official records their declaration)."""
    now = now or utcnow()
    with _acting(case_id=case_id, action="declaration", stage_key=stage_key, actor=actor,
                 token=token, channel=channel, now=now,
                 permission=f"declare interests for '{handle}'",
                 for_self=handle) as (session, case):
        return assignments.declare_interest(
            session, case=case, stage_key=stage_key, handle=handle, declaration=declaration,
            recorded_by=actor, now=now,
        )


def record_panel_note_as(
    *, case_id: str, stage_key: str, text: str, actor: str, token: str | None = None,
    channel: str, now: datetime | None = None,
) -> PanelNote:
    """An official of the undertaking unit records how the expert panel was composed."""
    now = now or utcnow()
    with _acting(case_id=case_id, action="panel_note", stage_key=stage_key, actor=actor,
                 token=token, channel=channel, now=now,
                 permission="record the panel-composition note") as (session, case):
        return assignments.record_panel_note(session, case=case, stage_key=stage_key,
                                             text=text, recorded_by=actor, now=now)
