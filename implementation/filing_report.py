"""The supervision report's part on normative documents: per undertaking unit and year,
how many documents were published, filed with the higher authority, filed on time, and
how many legality reviews they took — from what dueprocess recorded.

A document counts in the year its publication stage completed (the case's date). Any
procedure with a publication and a filing stage counts (the bundled `normative-document`
is one). Filed on time: the filing stage completed within the filing stage's
`file_within_days` of the publication's completion, both witnessed, never the typed
`filed_on`. Overdue: not filed and that many days have passed on the case's clock.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import col, func, select

from dueprocess.clock import local_date, system_now
from dueprocess.db import session_scope
from dueprocess.services.case_clock import clock_offsets
from dueprocess.settings import get_settings
from implementation.report import percent, rows_csv
from models.cases import DecisionCase
from models.evidence import EvidenceItem
from models.procedure import ProcedureDefinition
from models.stages import Stage


@dataclass(frozen=True)
class FilingFigures:
    unit: str
    published: int
    filed: int
    filed_on_time: int
    overdue: int  # published, not filed, past the filing period
    legality_reviews: int  # opinions recorded, re-reviews of revised drafts included
    filing_rate_percent: float | None
    on_time_percent: float | None


def filing_figures(*, year: int) -> list[FilingFigures]:
    zone = get_settings().case_timezone
    with session_scope() as session:
        cases = list(session.exec(select(DecisionCase)))
        stages = {(s.case_id, s.key): s for s in session.exec(select(Stage).where(
            col(Stage.completed_at).is_not(None)))}
        reviews = dict(session.exec(
            select(EvidenceItem.case_id, func.count(col(EvidenceItem.id)))
            .group_by(col(EvidenceItem.case_id))
            .where(col(EvidenceItem.stage_key).in_(["legality_review"]))).all())
        offsets = clock_offsets(session, {case.id for case in cases})
    now = system_now()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for case in cases:
        procedure = ProcedureDefinition.model_validate(case.procedure)
        publication = procedure.stages_of_kind("publication")
        filing = procedure.stages_of_kind("filing")
        if not publication or not filing:
            continue
        published = stages.get((case.id, publication[0].key))
        if published is None or published.completed_at is None:
            continue
        published_on = local_date(published.completed_at, zone)
        if published_on.year != year:
            continue
        due = published_on + timedelta(days=int(getattr(
            filing[0].gate_params, "file_within_days", 30)))
        filed = stages.get((case.id, filing[0].key))
        today = local_date(now + offsets.get(case.id, timedelta(0)), zone)
        c = counts[case.undertaking_unit]
        c["published"] += 1
        c["legality_reviews"] += int(reviews.get(case.id, 0))
        if filed is not None and filed.completed_at is not None:
            c["filed"] += 1
            c["filed_on_time"] += _on_or_before(local_date(filed.completed_at, zone), due)
        elif today > due:
            c["overdue"] += 1
    return [FilingFigures(
        unit=unit, published=c["published"], filed=c["filed"],
        filed_on_time=c["filed_on_time"], overdue=c["overdue"],
        legality_reviews=c["legality_reviews"],
        filing_rate_percent=percent(c["filed"], c["published"]),
        on_time_percent=percent(c["filed_on_time"], c["filed"]))
        for unit, c in sorted(counts.items())]


def _on_or_before(day: date, due: date) -> int:
    return int(day <= due)


def filing_csv(figures: list[FilingFigures]) -> str:
    return rows_csv(figures, FilingFigures)
