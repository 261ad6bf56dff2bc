"""Notices an official announces by hand: implementation progress (Art. 34-35); hearings
are `notifications.hearings`. Input is validated as pydantic models;
errors name the field and the rule."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError, schema_problems
from dueprocess.services.cases import get_case
from models.base import utcnow
from models.cases import CaseStatus
from models.notices import Notice
from notifications import content
from notifications.audiences import PUBLIC, case_tag
from notifications.queue import queue_notice

M = TypeVar("M", bound=BaseModel)


class ProgressCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=20_000)
    percent: int | None = Field(default=None, ge=0, le=100)
    reported_by: str = Field(min_length=1, max_length=200, description="Executing unit")
    as_of: date


def _validated(model: type[M], data: dict[str, object]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(p.message for p in schema_problems(exc.errors()))  # type: ignore[arg-type]
        raise DueProcessError(problems) from None


def announce_progress(*, case_id: str, data: dict[str, object],
                      now: datetime | None = None) -> Notice:
    now = now or utcnow()
    progress = _validated(ProgressCreate, data)
    with session_scope() as session:
        case = get_case(session, case_id, lock=True)
        if case.status is CaseStatus.OPEN:
            raise DueProcessError(f"case '{case.id}': not decided yet; implementation "
                                  "progress is reported after the decision (Art. 34)")
        digest = hashlib.sha256(progress.model_dump_json().encode()).hexdigest()[:16]
        return queue_notice(
            session, case_id=case.id, kind="implementation_progress",
            audience=[PUBLIC, case_tag(case.id)], public=True,
            context={**content.case_context(case), "progress": progress.model_dump(mode="json")},
            dedupe_key=f"{case.id}:implementation_progress:{digest}", now=now,
        )


