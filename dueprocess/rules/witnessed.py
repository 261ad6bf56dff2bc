"""Typed dates are declarations: checked against what dueprocess itself witnessed.

A date typed into evidence (a hearing, a signature, an opinion "issued on") cannot fall
before the case was opened, nor after the submission's own witnessed time: dueprocess
saw neither. Dates are compared in the case's time zone.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from dueprocess.rules.engine import ANY_STAGE, STAGE_ARTICLES, RuleContext, evidence_rule


def typed_dates(value: Any, path: str) -> Iterator[tuple[str, date]]:
    """Every calendar date in a submission, with its dotted field path."""
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from typed_dates(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, list | tuple):
        for index, element in enumerate(value):
            yield from typed_dates(element, f"{path}.{index}")
    elif isinstance(value, date) and not isinstance(value, datetime):
        yield path, value


@evidence_rule(id="EV-DATE-WITNESSED", kind=ANY_STAGE, article=STAGE_ARTICLES,
               summary="A typed date falls neither before the case was opened nor after "
                       "the submission was recorded")
def dates_witnessed(evidence: BaseModel, ctx: RuleContext) -> Iterator[str]:
    opened = ctx.facts.opened_on
    today = ctx.facts.local_date(ctx.now)
    for field, typed in typed_dates(evidence, ""):
        if opened is not None and typed < opened:
            yield (f"{field} {typed} is before the case was opened on {opened}: dueprocess "
                   "witnessed nothing of this case then")
        elif typed > today:
            yield (f"{field} {typed} is in the future: the case's clock reads {today} "
                   f"({ctx.facts.timezone})")
