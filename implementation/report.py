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
from implementation.item_comments import reception_by_department
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
    escalated: int
    completed_percent: float | None  # of the milestones due so far
    on_time_percent: float | None  # of the milestones due so far
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
    figures = []
    for department in sorted(counts):
        c = counts[department]
        due = c["done on time"] + c["done late"] + c["overdue"]
        figures.append(DepartmentFigures(
            department=department, items=len(items[department]),
            milestones=sum(c.values()), done_on_time=c["done on time"],
            done_late=c["done late"], overdue=c["overdue"], not_yet_due=c["not yet due"],
            escalated=escalations[department],
            completed_percent=percent(c["done on time"] + c["done late"], due),
            on_time_percent=percent(c["done on time"], due),
            comments=reception[department].comments if department in reception else 0,
            presses=reception[department].presses if department in reception else 0,
            average_rating=reception[department].average_rating
            if department in reception else None))
    return figures


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


def chart_spec(figures: list[DepartmentFigures], *, title: str,
               labels: dict[str, str]) -> dict[str, Any]:
    """A stacked bar per department: its milestones by status (Vega-Lite, via Altair)."""
    values = [{"department": f.department, "status": labels[status], "order": i,
               "milestones": getattr(f, status.replace(" ", "_"))}
              for f in figures for i, status in enumerate(STATUSES)]
    chart = alt.Chart(alt.Data(values=values), title=title).mark_bar().encode(
        x=alt.X("sum(milestones):Q", title=labels["milestones"],
                axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("department:N", title=None),
        color=alt.Color("status:N", title=None, sort=[labels[s] for s in STATUSES],
                        scale=alt.Scale(range=["#2a6", "#e90", "#c33", "#aaa"])),
        order=alt.Order("order:Q"),
    ).properties(width=480)
    return chart.to_dict()


def chart_svg(spec: dict[str, Any]) -> str:
    return str(vl_convert.vegalite_to_svg(spec))
