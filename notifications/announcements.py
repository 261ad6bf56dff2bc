"""Notices an official announces by hand: implementation progress (Art. 34-35); hearings
are `notifications.hearings`. Input is validated as pydantic models;
errors name the field and the rule."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dueprocess.clock import local_date
from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError, Refused, schema_problems
from dueprocess.rules.engine import Unmet
from dueprocess.services.case_clock import case_now
from dueprocess.services.cases import get_case
from dueprocess.services.identity import get_person, identity_problems, is_administrator
from dueprocess.services.refusal_audit import audited
from dueprocess.settings import get_settings
from models.cases import CaseStatus
from models.notices import Notice
from notifications import content
from notifications.audiences import PUBLIC, case_tag
from notifications.queue import queue_notice

M = TypeVar("M", bound=BaseModel)
ARTICLE = "Art. 34"


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


def announce_progress_as(*, case_id: str, data: dict[str, object], actor: str,
                         token: str | None, channel: str) -> Notice:
    """Publish an implementation progress update of a decided case. Only the official who
    opened the case, a member of its undertaking unit or an administrator may; a refusal
    names the rule and is audited, and the notice (logged) names who published it."""
    progress = _validated(ProgressCreate, data)
    with audited(case_id=case_id, action="announce_progress", stage_key=None, person=actor,
                 channel=channel), session_scope() as session:
        case = get_case(session, case_id, lock=True)
        problems = identity_problems(session, handle=actor, token=token, channel=channel)
        if problems:
            raise Refused(problems)
        person = get_person(session, actor)
        if not (actor == case.opened_by or person.unit == case.undertaking_unit
                or is_administrator(person)):
            raise Refused([Unmet("PROGRESS-REPORTER", ARTICLE, f"'{actor}' may not report "
                                 f"progress of case '{case.id}': only the official who opened "
                                 f"it, a member of {case.undertaking_unit} or an administrator")])
        now = case_now(session, case.id)
        if case.status is CaseStatus.OPEN:
            raise Refused([Unmet("PROGRESS-AFTER-DECISION", ARTICLE, f"case '{case.id}': not "
                                 "decided yet; implementation progress is reported after the "
                                 "decision")])
        today = local_date(now, get_settings().case_timezone)
        if progress.as_of > today:
            raise Refused([Unmet("PROGRESS-AFTER-DECISION", ARTICLE, f"as_of {progress.as_of} "
                                 f"is in the future: the case's date is {today}")])
        digest = hashlib.sha256(progress.model_dump_json().encode()).hexdigest()[:16]
        return queue_notice(
            session, case_id=case.id, kind="implementation_progress",
            audience=[PUBLIC, case_tag(case.id)], public=True,
            context={**content.case_context(case), "progress": progress.model_dump(mode="json")},
            dedupe_key=f"{case.id}:implementation_progress:{digest}", now=now,
        )
