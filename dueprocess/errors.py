"""Errors shown to users: each names the field or rule that was broken."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: the CLI imports this module at start-up
    from dueprocess.rules.engine import Unmet


class DueProcessError(Exception):
    """An error whose message is meant for the person who caused it.

    `http_status` is how a web answer reports it (the page's or the API's status): a
    subclass sets its own, so the web kit needs to know no capability's errors.
    """

    http_status: int = 400


class NotFound(DueProcessError):
    http_status = 404


class Refused(DueProcessError):
    """A submission refused before anything was stored; `problems` names every reason."""

    def __init__(self, problems: Sequence[Unmet], *, refusal_id: int | None = None) -> None:
        self.problems = tuple(problems)
        self.refusal_id = refusal_id
        super().__init__("; ".join(str(p) for p in self.problems))


def schema_problems(errors: Sequence[dict[str, object]], *, prefix: str = "") -> list[Unmet]:
    """Turn pydantic errors into problems that name the field and the rule."""
    from dueprocess.rules.engine import Unmet  # deferred: the CLI imports errors at start-up

    problems = []
    for error in errors:
        location = ".".join(str(part) for part in error.get("loc", ()))  # type: ignore[attr-defined]
        field = f"{prefix}{location}" if location else prefix.rstrip(".") or "evidence"
        problems.append(Unmet("SCHEMA", "schema", f"{field}: {error.get('msg')}"))
    return problems
