"""Residents' comments under an implementation item: what they say, a rating, and a
"press" (督促) that urges the department on. Anyone may comment, as on a case; the client
address is kept only as a keyed digest, the time is dueprocess's, and each comment is a
record on the item's log chain. Nothing is edited or deleted afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import case
from sqlmodel import col, func, select

from dueprocess.clock import system_now
from dueprocess.contact_secrets import keyed_digest
from dueprocess.db import session_scope
from implementation.items import get_item
from models.implementation import ImplementationItem, ItemComment, ItemCommentCreate


def comment_on_item(*, item_id: int, request: ItemCommentCreate, client: str,
                    now: datetime | None = None) -> ItemComment:
    with session_scope() as session:
        get_item(session, item_id)
        comment = ItemComment(item_id=item_id, body=request.body, rating=request.rating,
                              press=request.press,
                              client_digest=keyed_digest("item-comment-client", client)[:64],
                              received_at=now or system_now())
        session.add(comment)
        session.flush()
        session.expunge(comment)
        return comment


def item_comments(*, item_id: int, limit: int = 50, after: int = 0) -> list[ItemComment]:
    """A page of the item's comments, oldest first."""
    with session_scope() as session:
        rows = list(session.exec(select(ItemComment).where(
            ItemComment.item_id == item_id, col(ItemComment.id) > after)
            .order_by(col(ItemComment.id)).limit(limit)))
        session.expunge_all()
        return rows


@dataclass(frozen=True)
class Reception:
    """How residents received a department's items."""

    comments: int
    presses: int
    ratings: int
    average_rating: float | None


def reception_by_department(*, item_ids: set[int]) -> dict[str, Reception]:
    with session_scope() as session:
        rows = session.execute(  # five columns: SQLAlchemy's select, not SQLModel's
            sa.select(col(ImplementationItem.department), func.count(col(ItemComment.id)),
                   func.sum(case((col(ItemComment.press), 1), else_=0)),
                   func.count(col(ItemComment.rating)), func.avg(col(ItemComment.rating)))
            .join(ImplementationItem, col(ImplementationItem.id) == ItemComment.item_id)
            .where(col(ItemComment.item_id).in_(item_ids))
            .group_by(col(ImplementationItem.department))).all()
    return {department: Reception(int(comments), int(presses or 0), int(ratings),
                                  None if average is None else round(float(average), 2))
            for department, comments, presses, ratings, average in rows}
