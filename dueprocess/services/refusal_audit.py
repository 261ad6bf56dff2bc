"""Every refused action leaves an audit record: who tried what, and which rules refused it.

The record is written in its own transaction, after the refused one rolled back, and
announces itself as a case event (`evidence.refused` for a recording, `<action>.refused`
for anything else, e.g. `revision.refused`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlmodel import select

from dueprocess.db import session_scope
from dueprocess.errors import Refused
from dueprocess.journal import CaseEvent, publish
from dueprocess.rules.engine import Unmet
from models.base import utcnow
from models.evidence import Refusal

RECORD = "record"


def audit_refusal(
    *, case_id: str, action: str, stage_key: str | None, submitted_by: str | None,
    channel: str, idempotency_key: str | None, problems: tuple[Unmet, ...], now: datetime,
) -> int | None:
    """Store the refusal (once per idempotency key) and return its id."""
    with session_scope() as session:
        if idempotency_key is not None:
            earlier = session.exec(select(Refusal).where(
                Refusal.case_id == case_id, Refusal.idempotency_key == idempotency_key
            )).first()
            if earlier is not None:
                return earlier.id
        refusal = Refusal(
            case_id=case_id[:32], stage_key=stage_key, submitted_by=submitted_by,
            channel=channel, idempotency_key=idempotency_key,
            reasons=[{"action": action, **p.as_dict()} for p in problems], recorded_at=now,
        )
        session.add(refusal)
        session.flush()
        publish(session, CaseEvent(
            case_id=refusal.case_id,
            kind="evidence.refused" if action == RECORD else f"{action}.refused",
            occurred_at=now, stage_key=stage_key, person=submitted_by, subject_id=refusal.id,
            body={"action": action, "channel": channel, "reasons": refusal.reasons},
        ))
        return refusal.id


@contextmanager
def audited(
    *, case_id: str, action: str, stage_key: str | None, person: str | None, channel: str,
    idempotency_key: str | None = None, now: datetime | None = None,
) -> Iterator[None]:
    """Audit a `Refused` raised inside the block, then let it propagate.

    Open the block outside the action's own transaction, so the refused transaction has
    rolled back (and released its lock) before the audit record is written.
    """
    try:
        yield
    except Refused as refused:
        refused.refusal_id = audit_refusal(
            case_id=case_id, action=action, stage_key=stage_key, submitted_by=person,
            channel=channel, idempotency_key=idempotency_key, problems=refused.problems,
            now=now or utcnow(),
        )
        raise
