"""HTTP status of each refusal the portal can meet."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from dueprocess.errors import DueProcessError, NotFound
from notifications.transport.channels import InvalidChannel
from notifications.subscriptions import SubscriptionError
from portal.comments.rules import CommentRefused


class Problem(BaseModel):
    detail: str


class BadEncoding(DueProcessError):
    pass


def status_of(exc: DueProcessError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, CommentRefused):
        return exc.status
    if isinstance(exc, (InvalidChannel, SubscriptionError)):
        return 422
    return 400


def validation_message(exc: ValidationError) -> str:
    """'field: rule' for each problem, as the CLI says it."""
    parts = []
    for error in exc.errors():
        location = ".".join(str(p) for p in error["loc"]) or "body"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)


def decode_utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadEncoding(f"body: not valid UTF-8 (byte {exc.start}); send UTF-8 text") from None
