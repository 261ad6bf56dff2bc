"""When a comment is refused: the error that names the field and rule, and the window check.

Shared by the intake writer (`portal.comments.intake`) and the comment service
(`portal.comments.submission`), which imports the writer.
"""

from __future__ import annotations

from datetime import datetime

from dueprocess.clock import closing_time, zoned_time
from dueprocess.errors import DueProcessError
from dueprocess.settings import get_settings
from models.notices import CommentWindow


class CommentRefused(DueProcessError):
    """A comment that is not accepted; the message names the field and the rule."""

    http_status = 422

    def __init__(self, message: str, *, status: int = 422) -> None:
        super().__init__(message)
        self.http_status = status  # 409 when the window is not open


def refuse_outside_window(window: CommentWindow | None, case_id: str, now: datetime) -> None:
    """A comment is taken while the published window is open: from its opening until
    24:00 (Beijing time, the case's time zone) of its last published day (Art. 15)."""
    if window is None:
        raise CommentRefused(f"case '{case_id}': no comment window has been opened "
                             "(comments are taken during public participation, Art. 15)",
                             status=409)
    zone = get_settings().case_timezone
    if now >= window.closes_at:  # never earlier: the window closes as published
        raise CommentRefused(f"case '{case_id}': the comment window closed at "
                             f"{closing_time(window.closes_at, zone)} (Art. 15)", status=409)
    if now < window.opens_at:
        raise CommentRefused(f"case '{case_id}': the comment window opens at "
                             f"{zoned_time(window.opens_at, zone)} (Art. 15)", status=409)
