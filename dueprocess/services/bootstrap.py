"""The first administrator: created once, with a token shown once.

Before it exists nobody can register people or issue tokens (every such act needs an
administrator's token), so `dueprocess init-admin` is the one write accepted without a
credential, and only while no administrator exists; a second bootstrap is refused
(rule BOOTSTRAP-ONCE) and audited. The bootstrap is a logged act like any other.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from dueprocess.db import session_scope
from dueprocess.errors import Refused
from dueprocess.rules.engine import Unmet
from dueprocess.services import identity
from dueprocess.services.administration import (
    SYSTEM_SCOPE,
    publish_credential,
    publish_person,
)
from dueprocess.services.refusal_audit import audit_refusal
from models.base import utcnow
from models.ledger import LOG_HEAD_ID, LogHead
from models.people import Person, Role


def init_admin(*, handle: str, name: str, unit: str = "", channel: str,
               now: datetime | None = None) -> tuple[Person, str]:
    """Create the first administrator; returns them and their token (shown only now)."""
    now = now or utcnow()
    try:
        with session_scope() as session:
            # Two bootstraps at once must not both find no administrator: take the log
            # head's row lock (every logged write takes it) before looking, so the second
            # waits for the first to commit and then sees its administrator.
            session.exec(select(LogHead).where(LogHead.id == LOG_HEAD_ID).with_for_update()
                         ).one()
            existing = session.exec(select(Person).where(
                Person.role == Role.ADMINISTRATOR)).first()
            if existing is not None:
                raise Refused([Unmet(
                    "BOOTSTRAP-ONCE", "ASVS 2.5.1",
                    f"an administrator exists already ('{existing.handle}'): ask them to "
                    "register further administrators")])
            if session.exec(select(Person).where(Person.handle == handle)).first():
                raise Refused([Unmet(
                    "BOOTSTRAP-ONCE", "ASVS 2.5.1",
                    f"'{handle}' is registered already: choose a new handle for the "
                    "administrator")])
            person = Person(handle=handle, name=name, role=Role.ADMINISTRATOR.value, unit=unit)
            session.add(person)
            session.flush()
            publish_person(session, person, by=None, now=now)
            credential, token = identity.issue_token(session, handle=handle,
                                                     label="bootstrap")
            publish_credential(session, credential, kind="credential.issued", handle=handle,
                               by=None, now=now)
            return person, token
    except Refused as refused:
        refused.refusal_id = audit_refusal(
            case_id=SYSTEM_SCOPE, action="bootstrap", stage_key=None, submitted_by=handle,
            channel=channel, idempotency_key=None, problems=refused.problems, now=now)
        raise
