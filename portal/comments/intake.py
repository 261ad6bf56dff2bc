"""Comment intake by group commit: comments sent at the same time are stored together.

A request hands its checked comment to the process's intake writer (one thread) and
waits for its receipt. The writer takes every comment waiting, reads each case's comment
window (a read, no lock on the case row), stores the accepted ones in one transaction
and logs them as one `comments.received` record per case (the receipts and the SHA-256
of their lines, `models.notices.comment_batch_line`), then answers each request. So a
receipt is only given for a comment that is committed and logged, as before, but 16
concurrent comments cost one transaction and one log append instead of 16 serialised on
the log head.

The writers are `dueprocess.group_commit`'s.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError, NotFound
from dueprocess.group_commit import GroupCommit
from dueprocess.journal import CaseEvent, publish
from models.cases import DecisionCase
from models.notices import Comment, CommentWindow, comment_batch_line
from portal.comments.rules import CommentRefused, refuse_outside_window

MAX_BATCH = 500  # comments in one transaction
# Two writers: one stores its batch while the other holds the log head to append its own.
WRITERS = 2
_INSERT = Comment.__table__.insert()  # type: ignore[attr-defined]


@dataclass
class PendingComment:
    case_id: str
    body: str
    author: str | None
    sha256: str
    client_digest: str
    received_at: datetime
    future: Future[str] = field(default_factory=Future)  # the receipt number


def _windows(session: Session, batch: list[PendingComment]
             ) -> dict[str, CommentWindow | NotFound | None]:
    """Each case's comment window, in one read (a case without one is looked up, to tell
    an unknown case from one not yet consulting)."""
    case_ids = {p.case_id for p in batch}
    found: dict[str, CommentWindow | NotFound | None] = {
        w.case_id: w for w in session.exec(
            select(CommentWindow).where(col(CommentWindow.case_id).in_(case_ids)))}
    for case_id in case_ids - set(found):
        exists = session.exec(select(DecisionCase.id).where(DecisionCase.id == case_id)).first()
        found[case_id] = None if exists else NotFound(f"case '{case_id}' not found")
    return found


def _store(batch: list[PendingComment]) -> None:
    """Store the batch's accepted comments and log them; answer every request."""
    for _attempt in range(3):  # a receipt number collision is retried with new numbers
        waiting = [p for p in batch if not p.future.done()]
        if not waiting:
            return
        receipts: dict[int, str] = {}
        try:
            with session_scope() as session:
                windows = _windows(session, waiting)
                accepted = []
                for pending in waiting:
                    window = windows[pending.case_id]
                    try:
                        if isinstance(window, NotFound):
                            raise window
                        refuse_outside_window(window, pending.case_id, pending.received_at)
                    except (CommentRefused, NotFound) as exc:
                        pending.future.set_exception(exc)
                        continue
                    accepted.append(pending)
                rows = []
                for pending in accepted:
                    receipt = (f"C{pending.received_at:%Y%m%d}-"
                               f"{secrets.token_hex(4).upper()}")
                    receipts[id(pending)] = receipt
                    rows.append({
                        "case_id": pending.case_id, "receipt_number": receipt,
                        "author": pending.author, "body": pending.body,
                        "sha256": pending.sha256, "client_digest": pending.client_digest,
                        "received_at": pending.received_at, "source_key": None})
                if rows:
                    session.connection().execute(_INSERT, rows)
                by_case: dict[str, list[PendingComment]] = {}
                for pending in accepted:
                    by_case.setdefault(pending.case_id, []).append(pending)
                for case_id, members in by_case.items():
                    lines = "".join(comment_batch_line(
                        receipt_number=receipts[id(p)], body=p.body, author=p.author,
                        received_at=p.received_at) for p in members)
                    publish(session, CaseEvent(
                        case_id=case_id, kind="comments.received",
                        occurred_at=max(p.received_at for p in members),
                        digest=hashlib.sha256(lines.encode()).hexdigest(),
                        body={"count": len(members),
                              "receipts": [receipts[id(p)] for p in members]},
                    ))
        except IntegrityError:
            continue
        for pending in accepted:
            pending.future.set_result(receipts[id(pending)])
        return
    for pending in batch:
        if not pending.future.done():
            pending.future.set_exception(DueProcessError(
                "could not allocate a receipt number; please send again"))


_writer: GroupCommit[PendingComment] = GroupCommit("comment-intake", _store,
                                                  max_batch=MAX_BATCH, writers=WRITERS)


def enqueue(pending: PendingComment) -> Future[str]:
    """Hand a checked comment to this process's writer; the future gives its receipt."""
    return _writer.submit(pending)


async def wait(future: Future[str]) -> str:
    return await asyncio.wrap_future(future)
