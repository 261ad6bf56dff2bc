"""The supervision report: each milestone counted once per department and year, from
recorded completions and the case's clock; the page shows the chart and the table, the
CSV the same figures; in Chromium too."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dueprocess.db import session_scope
from dueprocess.services.case_clock import advance_clock_to, case_time
from dueprocess.services.cases import register_person
from dueprocess.services.identity import issue_token
from implementation.item_comments import comment_on_item
from implementation.items import items
from implementation.report import department_figures, milestone_status
from implementation.supervision import supervise_overdue
from models.implementation import ItemCommentCreate
from models.people import PersonCreate, Role
from tests.programme.conftest import milestone, progress, register

DAY = date(2027, 3, 10)


def test_a_milestone_is_on_time_late_overdue_or_not_yet_due() -> None:
    def status(completed: date | None, today: date) -> str:
        return milestone_status(due_on=DAY, completed_on=completed, today=today)

    assert status(DAY, DAY + timedelta(days=9)) == "done on time"
    assert status(DAY + timedelta(days=1), DAY + timedelta(days=9)) == "done late"
    assert status(None, DAY + timedelta(days=1)) == "overdue"
    assert status(None, DAY) == "not yet due"


def new_department() -> tuple[str, str]:
    """A registered unit of its own (the shared database holds other tests' items), and
    the handle of a member of it."""
    unit = f"Works Bureau {uuid.uuid4().hex[:6]}"
    handle = f"works.{uuid.uuid4().hex[:6]}"
    with session_scope() as session:
        register_person(session, PersonCreate(handle=handle, name="Works Officer",
                                              role=Role.OFFICIAL, unit=unit))
    return unit, handle


@pytest.fixture
def department(decided_case: str) -> tuple[str, int]:
    """One item of a new department with four milestones: done on time, done late,
    overdue (and escalated), not yet due; returns (department, year)."""
    unit, member = new_department()
    with session_scope() as session:
        token = issue_token(session, handle=member, label="tests")[1]
    item = register(decided_case, department=unit)
    assert item.id is not None
    start = item.registered_on

    def report(**changes: Any) -> None:
        progress(item.id or 0, actor=member, token=token, **changes)

    on_time, late, overdue, later = (milestone(item.id, start + timedelta(days=d))
                                     for d in (1, 2, 3, 30))
    report(completes_milestone=on_time.id, percent=25)
    advance_clock_to(case_id=decided_case, moment=case_time(decided_case) + timedelta(days=5))
    report(completes_milestone=late.id, percent=50)
    supervise_overdue()
    assert overdue.due_on.year == later.due_on.year == start.year
    return unit, start.year


def test_the_figures_count_each_milestone_once_by_what_was_recorded(
    department: tuple[str, int],
) -> None:
    unit, year = department
    [figures] = [f for f in department_figures(year=year) if f.department == unit]
    assert (figures.items, figures.milestones, figures.done_on_time, figures.done_late,
            figures.overdue, figures.not_yet_due, figures.escalated) == (1, 4, 1, 1, 1, 1, 1)
    assert figures.completed_percent == pytest.approx(66.7)  # 2 of the 3 due so far
    assert figures.on_time_percent == pytest.approx(33.3)
    assert not [f for f in department_figures(year=year + 1) if f.department == unit]
    assert (figures.comments, figures.presses, figures.average_rating) == (0, 0, None)
    [item] = [i for i in items() if i.department == unit]
    for rating, press in ((4, True), (None, False), (1, False)):
        comment_on_item(item_id=item.id or 0, client="192.0.2.1", request=ItemCommentCreate(
            body="Residents' view", rating=rating, press=press))
    [figures] = [f for f in department_figures(year=year) if f.department == unit]
    assert (figures.comments, figures.presses, figures.average_rating) == (3, 1, 2.5)


def test_the_page_and_the_csv_show_the_same_figures(department: tuple[str, int],
                                                    client: TestClient) -> None:
    unit, year = department
    page = client.get(f"/programme/report/{year}?lang=en")
    exported = client.get(f"/programme/report/{year}.csv")
    assert client.get("/programme/report/1999").status_code == 422
    assert "No milestones due" in client.get("/programme/report/2100?lang=en").text
    assert page.status_code == 200 and "<svg" in page.text and unit in page.text
    assert exported.headers["content-type"].startswith("text/csv")
    [row] = [r for r in csv.DictReader(io.StringIO(exported.text)) if r["department"] == unit]
    assert (row["milestones"], row["done_on_time"], row["overdue"], row["completed_percent"]
            ) == ("4", "1", "1", "66.7")


@pytest.mark.slow
@pytest.mark.browser
def test_the_report_and_its_chart_in_chromium(portal_url: str, browser: Any,
                                              department: tuple[str, int]) -> None:
    unit, year = department
    page = browser.new_page(locale="zh-CN")
    page.goto(f"{portal_url}/programme/report/{year}")
    assert "督办报告" in page.inner_text("h1")
    box = page.locator("#report-chart svg").bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 50
    assert unit in page.inner_text("#report-chart")  # the chart labels the department
    assert "逾期未完成" in page.inner_text("#report-chart")
    row = page.locator("#report tr", has_text=unit).inner_text()
    assert "66.7% (2/3)" in row and "33.3% (1/3)" in row


# A common phone's width (iPhone 12 to 15) in CSS pixels, as tests/portal/test_browser.py.
PHONE = {"width": 390, "height": 844}
MEASURE = """() => {
  const cells = [...document.querySelectorAll('table td, table th')]
    .filter(c => c.getClientRects().length > 0)
    .map(c => ({text: c.innerText.trim(), width: c.getBoundingClientRect().width,
                em: parseFloat(getComputedStyle(c).fontSize)}));
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
          narrow: cells.filter(c => c.text.length > 1 && c.width < 3 * c.em).slice(0, 5),
          cells: cells.length};
}"""


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_report_fits_a_phone_width(portal_url: str, browser: Any, tmp_path: Any,
                                       department: tuple[str, int], lang: str) -> None:
    _, year = department
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                  device_scale_factor=2, locale=lang)
    page = context.new_page()
    assert page.goto(f"{portal_url}/programme/report/{year}?lang={lang}").status == 200
    shot = tmp_path / f"report-{year}-{lang}-390.png"
    page.screenshot(path=str(shot), full_page=True)
    measured = page.evaluate(MEASURE)
    context.close()
    assert shot.stat().st_size > 10_000
    assert measured["innerWidth"] == PHONE["width"], measured  # not zoomed out to fit
    assert measured["scrollWidth"] <= PHONE["width"], measured
    assert measured["cells"] > 10 and not measured["narrow"], measured  # no letter per line
