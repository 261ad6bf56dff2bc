"""Opening a case as an authenticated official: the way in for every channel.

A case file names its opener and lists people and assignments; none of it is taken on
the file's word. The token must be the opener's (AUTHENTICATED); a person the file lists
who is not registered yet needs an administrator (ADMINISTRATOR), so a file cannot bring
in and assign someone nobody vetted. That the opener is an official of the undertaking unit,
and so may assign the stages, is the start rule ST-UNDERTAKING-UNIT (Art. 11) of
`open_case`. A refusal is audited and nothing else is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session, col, select

from dueprocess.db import session_scope
from dueprocess.errors import Refused
from dueprocess.rules.permissions import administrator
from dueprocess.services import identity
from dueprocess.services.administration import SYSTEM_SCOPE
from dueprocess.services.cases import open_case
from dueprocess.services.refusal_audit import audit_refusal
from models.base import utcnow
from models.cases import CaseCreate, DecisionCase
from models.people import Person

OPEN = "case.open"


def unregistered_people(session: Session, request: CaseCreate) -> list[str]:
    """Handles the case file lists that nobody has registered yet."""
    listed = [person.handle for person in request.people]
    known = set(session.exec(select(Person.handle).where(col(Person.handle).in_(listed))))
    return [handle for handle in listed if handle not in known]


def open_case_as(*, request: CaseCreate, token: str | None, channel: str,
                 now: datetime | None = None,
                 also: Callable[[Session, DecisionCase], None] | None = None) -> DecisionCase:
    """Open the case for the token's holder, who must be the case's `opened_by`; `also`
    stores what belongs with the opening in the same transaction (a programme list)."""
    now = now or utcnow()
    actor: str | None = None
    try:
        with session_scope() as session:
            person = identity.authenticated_person(session, token=token)
            actor = person.handle
            problems = identity.identity_problems(session, handle=request.opened_by,
                                                  token=token, channel=channel)
            new_people = unregistered_people(session, request)
            if new_people:
                problems += administrator(person.role, person.handle,
                                          f"register people ({', '.join(new_people)})")
            if problems:
                raise Refused(problems)
            case = open_case(session, request=request, now=now)
            if also is not None:
                also(session, case)
            return case
    except Refused as refused:
        refused.refusal_id = audit_refusal(
            case_id=SYSTEM_SCOPE, action=OPEN, stage_key=None, submitted_by=actor,
            channel=channel, idempotency_key=None, problems=refused.problems, now=now)
        raise
