"""HTTP status of each refusal a page or the API can meet: the error's own `http_status`."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from dueprocess.errors import DueProcessError


class Problem(BaseModel):
    detail: str


class BadEncoding(DueProcessError):
    pass


def status_of(exc: DueProcessError) -> int:
    """The HTTP status the error names (`DueProcessError.http_status`: 400 unless its class or
    the instance says otherwise, e.g. 404 for `NotFound`)."""
    return exc.http_status


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
