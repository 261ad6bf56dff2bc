"""Notices of a case whose delivery failed for good, for `dueprocess status`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from models.notices import Notice, NoticeDelivery


@dataclass(frozen=True)
class FailedNotice:
    notice_id: int
    kind: str
    subject: str
    failed: int
    attempts: int
    channels: list[str]  # privacy form
    last_error: str


def failed_notices(session: Session, case_id: str) -> list[FailedNotice]:
    rows = session.exec(
        select(Notice, NoticeDelivery)
        .join(NoticeDelivery, col(NoticeDelivery.notice_id) == Notice.id)
        .where(Notice.case_id == case_id, NoticeDelivery.status == "failed")
        .order_by(col(Notice.id), col(NoticeDelivery.id))
    )
    grouped: dict[int, list[tuple[Notice, NoticeDelivery]]] = {}
    for notice, delivery in rows:
        grouped.setdefault(notice.id or 0, []).append((notice, delivery))
    return [
        FailedNotice(
            notice_id=notice_id, kind=pairs[0][0].kind, subject=pairs[0][0].subject,
            failed=len(pairs), attempts=max(d.attempts for _, d in pairs),
            channels=[d.channel for _, d in pairs], last_error=pairs[-1][1].last_error or "",
        )
        for notice_id, pairs in grouped.items()
    ]
