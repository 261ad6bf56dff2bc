"""What officials and experts do to a case besides recording evidence, as audited commands.

Each command authenticates the actor (their API token), checks their
permission, acts in one transaction, and on refusal leaves an audit record naming who,
what and which rule. The CLI and the API call these; the services they wrap
(`services.assignments`, `services.drafts`) take a session and trust their caller.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlmodel import Session

from dueprocess.db import session_scope
from dueprocess.errors import Refused
from dueprocess.journal import CaseEvent, publish
from dueprocess.rules.engine import Unmet
from dueprocess.rules.facts import CaseFacts
from dueprocess.rules.permissions import assigner, undertaking_official
from dueprocess.services import assignments, drafts
from dueprocess.services.case_snapshot import load_facts
from dueprocess.services.cases import get_case
from dueprocess.services.identity import identity_problems
from dueprocess.services.payloads import canonical_sha256
from dueprocess.services.refusal_audit import audited
from models.base import utcnow
from models.cases import DecisionCase, DraftRevise, DraftVersion
from models.people import Assignment, InterestDeclaration, InterestDeclarationCreate, PanelNote

Permission = Callable[[CaseFacts, str, str], list[Unmet]]


def _check_actor(session: Session, case: DecisionCase, *, actor: str, token: str | None,
                 channel: str, action: str, for_self: str | None = None,
                 rule: Permission = undertaking_official) -> None:
    """Refuse an actor who is not authenticated, or whom `rule` does not allow (an
    official of the undertaking unit by default), unless `for_self`: acting for themself."""
    problems: list[Unmet] = identity_problems(session, handle=actor, token=token,
                                              channel=channel)
    if not problems and actor != for_self:
        problems = rule(load_facts(session, case, also=[actor]), actor, action)
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
    rule: Permission = undertaking_official,
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
                         action=permission, for_self=for_self, rule=rule)
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
    """An official of the undertaking unit or the decision organ, or an administrator,
    assigns a person to a case stage."""
    now = now or utcnow()
    with _acting(case_id=case_id, action="assignment", stage_key=stage_key, actor=actor,
                 token=token, channel=channel, now=now, permission="assign people",
                 rule=assigner) as (session, case):
        assignment = assignments.assign(session, case=case, stage_key=stage_key,
                                        handle=handle, now=now)
        if assignment.assigned_at != now:
            return assignment  # assigned before: already in the log
        publish(session, CaseEvent(
            case_id=case_id, kind="assignment.made", occurred_at=now, stage_key=stage_key,
            person=actor, subject_id=assignment.id,
            digest=canonical_sha256({"case_id": case_id, "stage_key": stage_key,
                                     "assignee": handle}),
            body={"assignee": handle},
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
        declared = assignments.declare_interest(
            session, case=case, stage_key=stage_key, handle=handle, declaration=declaration,
            recorded_by=actor, now=now,
        )
        publish(session, CaseEvent(
            case_id=case_id, kind="interest.declared", occurred_at=now, stage_key=stage_key,
            person=actor, subject_id=declared.id,
            digest=canonical_sha256({"declarant": handle,
                                     **declaration.model_dump(mode="json")}),
            body={"declarant": handle, "direct_interest": declaration.direct_interest},
        ))
        return declared


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
