"""HTTP status of each refusal a page or the API can meet: the error's own `http_status`."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from dueprocess.errors import DueProcessError


class Problem(BaseModel):
    detail: str


class BadEncoding(DueProcessError):
    pass


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
