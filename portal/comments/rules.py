"""When a comment is refused: the error that names the field and rule, and the window check.

Shared by the intake writer (`portal.comments.intake`) and the comment service
(`portal.comments.submission`), which imports the writer.
"""

from __future__ import annotations

from datetime import datetime

from dueprocess.errors import DueProcessError
from models.notices import CommentWindow


class CommentRefused(DueProcessError):
    """A comment that is not accepted; the message names the field and the rule."""

    http_status = 422

    def __init__(self, message: str, *, status: int = 422) -> None:
        super().__init__(message)
        self.http_status = status  # 409 when the window is not open

    @property
    def status(self) -> int:
        return self.http_status


def refuse_outside_window(window: CommentWindow | None, case_id: str, now: datetime) -> None:
    if window is None:
        raise CommentRefused(f"case '{case_id}': no comment window has been opened "
                             "(comments are taken during public participation)", status=409)
    if now >= window.closes_at:  # never earlier: the window closes as published
        ended = window.closes_at
        raise CommentRefused(f"case '{case_id}': the comment window closed on "
                             f"{ended:%Y-%m-%d %H:%M} UTC", status=409)
    if now < window.opens_at:
        raise CommentRefused(f"case '{case_id}': the comment window opens on "
                             f"{window.opens_at:%Y-%m-%d %H:%M} UTC", status=409)
