"""Notices an official announces by hand: the comment window's dates (Art. 15), a hearing
(Art. 16) and implementation progress (Art. 34-35). Input is validated as pydantic models;
errors name the field and the rule."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
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
HEARING_NOTICE_DAYS = 7  # Art. 16: materials reach participants at least 7 days before


class HearingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    held_on: date
    place: str = Field(min_length=1, max_length=300)
    selection_method: str = Field(min_length=1, max_length=2000,
                                  description="How participants were selected (published)")
    participants: list[str] = Field(min_length=1, max_length=500)


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


def announce_hearing(*, case_id: str, data: dict[str, object],
                     now: datetime | None = None) -> Notice:
    now = now or utcnow()
    hearing = _validated(HearingCreate, data)
    earliest = now.date() + timedelta(days=HEARING_NOTICE_DAYS)
    if hearing.held_on < earliest:
        raise DueProcessError(
            f"held_on: {hearing.held_on} is less than {HEARING_NOTICE_DAYS} days away; "
            f"Art. 16 needs materials with participants 7 days before (earliest {earliest})"
        )
    with session_scope() as session:
        case = get_case(session, case_id, lock=True)
        digest = hashlib.sha256(hearing.model_dump_json().encode()).hexdigest()[:16]
        return queue_notice(
            session, case_id=case.id, kind="hearing", audience=[PUBLIC, case_tag(case.id)],
            public=True, context={**content.case_context(case),
                                  "hearing": hearing.model_dump(mode="json")},
            dedupe_key=f"{case.id}:hearing:{digest}", now=now,
        )


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


