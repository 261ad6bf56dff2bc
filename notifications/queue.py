"""Queue a notice: render it once, store it, and announce it in the same transaction.

Queueing is idempotent by the notice's dedupe key: a cause (a stage opening, a deadline
passing) produces its notice once, however often it is replayed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from dueprocess.journal import CaseEvent, publish
from dueprocess.services.payloads import canonical_sha256
from dueprocess.settings import get_notify_settings
from models.notices import Notice
from notifications.render import render


def queue_notice(
    session: Session, *, case_id: str, kind: str, audience: Sequence[str], public: bool,
    context: dict[str, Any], dedupe_key: str, now: datetime,
) -> Notice:
    existing = session.exec(select(Notice).where(Notice.dedupe_key == dedupe_key)).first()
    if existing is not None:
        return existing
    language = get_notify_settings().notify_language
    rendered = render(kind, context, language=language)
    content = {"case_id": case_id, "kind": kind, "audience": sorted(audience),
               "language": language, "subject": rendered.subject, "text": rendered.text,
               "html": rendered.html}
    notice = Notice(
        case_id=case_id, kind=kind, audience=sorted(audience), public=public,
        language=language, subject=rendered.subject, body_text=rendered.text,
        body_html=rendered.html, sha256=canonical_sha256(content), dedupe_key=dedupe_key,
        created_at=now,
    )
    session.add(notice)
    session.flush()
    publish(session, CaseEvent(
        case_id=case_id, kind="notice.queued", occurred_at=now, subject_id=notice.id,
        digest=notice.sha256,
        body={"notice_kind": kind, "audience": notice.audience, "public": public,
              "language": language},
    ))
    return notice
