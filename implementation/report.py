"""The supervision report: per responsible department and year, how the milestones of
implementation items went, from what dueprocess recorded (never from typed figures).

A milestone counts in the year it is due. It is *done on time* when the update that
completed it was recorded on or before its due date, *done late* after it, *overdue*
when its due date has passed on its case's clock without completion, and *not yet due*
otherwise. Residents' comments, presses and ratings under the items are counted per
department. The same rows give the page's table, its chart (Vega-Altair, rendered to SVG
on the server, so the page needs no script) and the CSV export.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date, timedelta
from gettext import NullTranslations
from typing import Any

import altair as alt
import vl_convert
from sqlmodel import col, select

from dueprocess.clock import local_date, system_now
from dueprocess.db import session_scope
from dueprocess.services.case_clock import clock_offsets
from dueprocess.settings import get_settings
from implementation.item_comments import Reception, reception_by_department
from implementation.items import completed_milestones
from models.implementation import ImplementationItem, Milestone, SupervisionRecord

STATUSES = ("done on time", "done late", "overdue", "not yet due")


@dataclass(frozen=True)
class DepartmentFigures:
    department: str
    items: int
    milestones: int
    done_on_time: int
    done_late: int
    overdue: int
    not_yet_due: int
    due: int  # due so far: done (on time or late) and overdue; the rates' denominator
    escalated: int
    completed_percent: float | None  # done ÷ due; the not yet due are apart
    on_time_percent: float | None  # done on time ÷ due
    comments: int  # residents' comments under the department's items
    presses: int  # of them, urging the department on (督促)
    average_rating: float | None  # residents' ratings, 1 to 5


def percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100 * part / whole, 1)


def milestone_status(*, due_on: date, completed_on: date | None, today: date) -> str:
    if completed_on is not None:
        return "done on time" if completed_on <= due_on else "done late"
    return "overdue" if today > due_on else "not yet due"


def department_figures(*, year: int) -> list[DepartmentFigures]:
    zone = get_settings().case_timezone
    with session_scope() as session:
        rows = list(session.exec(
            select(Milestone, ImplementationItem)
            .join(ImplementationItem, col(ImplementationItem.id) == Milestone.item_id)
            .where(col(Milestone.due_on) >= date(year, 1, 1),
                   col(Milestone.due_on) <= date(year, 12, 31))))
        ids = [m.id for m, _ in rows if m.id is not None]
        done = completed_milestones(session, ids)
        escalated = set(session.exec(select(SupervisionRecord.milestone_id).where(
            col(SupervisionRecord.milestone_id).in_(ids))))
        offsets = clock_offsets(session, {item.case_id for _, item in rows})
    reception = reception_by_department(item_ids={item.id or 0 for _, item in rows})
    now = system_now()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATUSES, 0))
    items: dict[str, set[int]] = defaultdict(set)
    escalations: dict[str, int] = defaultdict(int)
    for milestone, item in rows:
        today = local_date(now + offsets.get(item.case_id, timedelta(0)), zone)
        status = milestone_status(due_on=milestone.due_on,
                                  completed_on=done.get(milestone.id or 0), today=today)
        counts[item.department][status] += 1
        items[item.department].add(item.id or 0)
        escalations[item.department] += milestone.id in escalated
    return [department_row(
        department=department, statuses=counts[department], items=len(items[department]),
        escalated=escalations[department], reception=reception.get(department))
        for department in sorted(counts)]


def department_row(*, department: str, statuses: dict[str, int], items: int, escalated: int,
                   reception: Reception | None = None) -> DepartmentFigures:
    """One department's figures from its milestones' counts by status. The rates are of
    the milestones due so far (done ÷ due): a milestone not yet due is neither done nor
    missed, so one overdue and one not yet due is 0 %, never 100 %."""
    c = {status: statuses.get(status, 0) for status in STATUSES}
    due = c["done on time"] + c["done late"] + c["overdue"]
    return DepartmentFigures(
        department=department, items=items, milestones=sum(c.values()),
        done_on_time=c["done on time"], done_late=c["done late"], overdue=c["overdue"],
        not_yet_due=c["not yet due"], due=due, escalated=escalated,
        completed_percent=percent(c["done on time"] + c["done late"], due),
        on_time_percent=percent(c["done on time"], due),
        comments=reception.comments if reception else 0,
        presses=reception.presses if reception else 0,
        average_rating=reception.average_rating if reception else None)


def rows_csv(rows: Sequence[Any], row_type: type) -> str:
    """Dataclass rows as CSV with a header; an absent figure is an empty cell."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[f.name for f in fields(row_type)],
                            lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in asdict(row).items()})
    return out.getvalue()


def report_csv(figures: list[DepartmentFigures]) -> str:
    return rows_csv(figures, DepartmentFigures)


def chart_labels(t: NullTranslations) -> dict[str, str]:
    """The chart's words (its axis and each status) in the language of the catalogue `t`
    (`dueprocess.i18n.translations(language)`)."""
    return {
        "milestones": t.gettext("Milestones"),
        "done on time": t.gettext("Done on time"),
        "done late": t.gettext("Done late"),
        "overdue": t.pgettext("supervision report", "Overdue"),
        "not yet due": t.gettext("Not yet due"),
    }


def integer_ticks(maximum: int, *, most: int = 6) -> list[int]:
    """Whole-number ticks from 0 to at least `maximum`, at most `most` + 1 of them: a count
    of milestones has no halves (Vega's own ticks at 0.5 read "0 1 1 2 2")."""
    step = max(1, math.ceil(maximum / most))
    return list(range(0, max(maximum, 1) + step, step))[: most + 2]


def chart_spec(figures: list[DepartmentFigures], *, title: str,
               labels: dict[str, str]) -> dict[str, Any]:
    """A stacked bar per department: its milestones by status (Vega-Lite, via Altair)."""
    values = [{"department": f.department, "status": labels[status], "order": i,
               "milestones": getattr(f, status.replace(" ", "_"))}
              for f in figures for i, status in enumerate(STATUSES)]
    ticks = integer_ticks(max((f.milestones for f in figures), default=0))
    chart = alt.Chart(alt.Data(values=values), title=title).mark_bar().encode(
        x=alt.X("sum(milestones):Q", title=labels["milestones"],
                scale=alt.Scale(domain=[0, ticks[-1]], nice=False),
                axis=alt.Axis(values=ticks, format="d")),
        y=alt.Y("department:N", title=None),
        color=alt.Color("status:N", title=None, sort=[labels[s] for s in STATUSES],
                        scale=alt.Scale(range=["#2a6", "#e90", "#c33", "#aaa"])),
        order=alt.Order("order:Q"),
    ).properties(width=300)  # the SVG scales down to a phone's width too
    return chart.to_dict()


def chart_svg(spec: dict[str, Any]) -> str:
    return str(vl_convert.vegalite_to_svg(spec))
