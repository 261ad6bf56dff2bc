"""The report's numbers are honest: a rate is done ÷ due with the not yet due apart, the
chart counts in whole milestones, and the items page links to the year it shows."""

from __future__ import annotations

import re
from datetime import date, timedelta
from itertools import pairwise
from types import SimpleNamespace
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient

from dueprocess.i18n import translations
from dueprocess.services.case_clock import advance_clock_to, case_time
from implementation.item_pages import report_year
from implementation.items import item_view, items
from implementation.report import (
    chart_labels,
    chart_spec,
    chart_svg,
    department_row,
    integer_ticks,
)
from tests.programme.conftest import register


def row(**statuses: int) -> Any:
    return department_row(department="区住建局", items=1, escalated=0,
                          statuses={k.replace("_", " "): v for k, v in statuses.items()})


def test_one_overdue_and_one_not_yet_due_is_zero_percent_not_a_hundred() -> None:
    figures = row(overdue=1, not_yet_due=1)
    assert (figures.due, figures.not_yet_due, figures.milestones) == (1, 1, 2)
    assert figures.completed_percent == 0.0 and figures.on_time_percent == 0.0


def test_the_rates_are_of_the_milestones_due_so_far() -> None:
    late = row(done_late=1, not_yet_due=1)  # done, but late: completed, not on time
    assert (late.completed_percent, late.on_time_percent, late.due) == (100.0, 0.0, 1)
    mixed = row(done_on_time=1, done_late=1, overdue=2, not_yet_due=5)
    assert (mixed.completed_percent, mixed.on_time_percent, mixed.due) == (50.0, 25.0, 4)
    nothing_due = row(not_yet_due=3)
    assert (nothing_due.completed_percent, nothing_due.on_time_percent) == (None, None)


@pytest.mark.parametrize("maximum", [0, 1, 2, 3, 5, 7, 12, 40, 1000])
def test_the_ticks_are_whole_distinct_numbers_reaching_the_longest_bar(maximum: int) -> None:
    ticks = integer_ticks(maximum)
    assert ticks[0] == 0 and ticks[-1] >= maximum and len(ticks) <= 8
    assert all(b > a for a, b in pairwise(ticks))


@pytest.mark.parametrize("most", [1, 2, 3, 4, 9])
def test_the_drawn_axis_reads_whole_numbers_once_each(most: int) -> None:
    figures = [row(done_late=1, not_yet_due=most), row(done_on_time=1)]
    labels = chart_labels(translations("en"))
    svg = chart_svg(chart_spec(figures, title="Supervision report 2027", labels=labels))
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    numbers = [t for t in texts if re.fullmatch(r"[\d.,]+", t)]
    assert numbers == [str(n) for n in integer_ticks(most + 1)], texts  # no "0 1 1 2 2"
    assert "." not in "".join(numbers)


def test_report_year_is_the_year_on_the_items_clock() -> None:
    def view(day: date) -> Any:
        return cast(Any, SimpleNamespace(today=day))

    assert report_year([view(date(2027, 5, 20))]) == 2027
    assert report_year([view(date(2026, 12, 1)), view(date(2027, 1, 3))]) == 2027


def test_the_items_page_links_to_the_report_of_the_year_it_shows(
    decided_case: str, client: TestClient,
) -> None:
    item = register(decided_case)
    later = case_time(decided_case).replace(month=6, day=1) + timedelta(days=800)
    advance_clock_to(case_id=decided_case, moment=later)
    shown = max(item_view(i.id).today.year for i in items() if i.id is not None)
    assert item_view(item.id or 0).today.year == later.year
    page = client.get("/programme/items?lang=en").text
    [linked] = re.findall(r'href="/programme/report/(\d{4})"', page)
    assert int(linked) == shown >= later.year
