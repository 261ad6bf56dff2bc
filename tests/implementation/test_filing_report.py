"""The report's filing part: normative documents per undertaking unit and year — filed,
filed on time and overdue measured between witnessed stage completions and on the case's
clock, never on the typed filing date."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient

from dueprocess.demo.submissions import BEIJING
from dueprocess.services.case_clock import advance_clock_to
from implementation.filing_report import FilingFigures, filing_figures
from tests.dueprocess.services.test_normative_document import drive_like_the_flow
from tests.support import NORMATIVE_FILING, NORMATIVE_STEPS, normative_case

UNIT = "District Urban Management Commission"  # the demo case file's undertaking unit


def figures() -> FilingFigures:
    found = [f for f in filing_figures(year=2026) if f.unit == UNIT]
    return found[0] if found else FilingFigures(UNIT, 0, 0, 0, 0, 0, None, None)


def test_filed_on_time_late_and_overdue_are_measured_between_witnessed_events(
    client: TestClient,
) -> None:
    before = figures()
    on_time = normative_case()
    drive_like_the_flow(on_time, NORMATIVE_STEPS)
    late = normative_case()
    drive_like_the_flow(late, NORMATIVE_STEPS[:-1])  # published 2026-11-24: due by 12-24
    advance_clock_to(case_id=late, moment=datetime(2026, 12, 30, 10, tzinfo=BEIJING))
    # The typed date claims the 20th; dueprocess recorded the filing on the 30th.
    drive_like_the_flow(late, [("filing", "xu.bei", {**NORMATIVE_FILING,
                                                     "filed_on": "2026-12-20"})])
    unfiled = normative_case()
    drive_like_the_flow(unfiled, NORMATIVE_STEPS[:-1])
    assert figures().overdue == before.overdue  # not due yet on its clock
    advance_clock_to(case_id=unfiled, moment=datetime(2026, 12, 26, 10, tzinfo=BEIJING))
    after = figures()
    assert (after.published - before.published, after.filed - before.filed,
            after.filed_on_time - before.filed_on_time, after.overdue - before.overdue,
            after.legality_reviews - before.legality_reviews) == (3, 2, 1, 1, 3)
    assert after.filing_rate_percent is not None and after.on_time_percent is not None
    assert not filing_figures(year=2031)
    page = client.get("/programme/report/2026?lang=en").text
    exported = client.get("/programme/report/2026/filing.csv").text
    assert "Normative documents: filing" in page and UNIT in page
    assert exported.startswith("unit,published,filed,filed_on_time,overdue,")
    assert f"{UNIT},{after.published},{after.filed},{after.filed_on_time}," in exported
