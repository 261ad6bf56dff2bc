"""Working days on China's official calendar: make-up workdays count, holidays do not,
and a year the calendar does not cover is an error that names it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dueprocess.rules.workdays import CalendarError, get_calendar, working_days_after


def test_national_day_holidays_do_not_count_and_the_saturday_make_up_day_does() -> None:
    calendar = get_calendar()
    assert calendar.is_workday(date(2026, 10, 10))  # a Saturday, worked for National Day
    assert not calendar.is_workday(date(2026, 10, 5))  # a Monday off
    # 2026-09-30 to 2026-10-12: Oct 1-7 off; the 9th, 10th (Saturday) and 12th are worked.
    assert working_days_after(date(2026, 9, 30), date(2026, 10, 12), calendar) == 4


def test_a_year_the_library_does_not_cover_is_an_error_naming_it() -> None:
    with pytest.raises(CalendarError, match="year 2027 is not covered by the chinesecalendar"):
        working_days_after(date(2026, 12, 28), date(2027, 1, 8), get_calendar())


def test_a_calendar_file_can_stand_in_for_an_uncovered_year(tmp_path: Path) -> None:
    path = tmp_path / "cn-2027.yaml"
    path.write_text("name: State Council notice for 2027\nyears: [2027]\n"
                    "holidays: [2027-01-01]\nworkdays: [2027-01-09]\n", encoding="utf-8")
    calendar = get_calendar(str(path))
    # Jan 1 (Friday) off, Jan 2-3 weekend; Jan 4-8, the make-up Saturday Jan 9, Jan 11.
    assert working_days_after(date(2026, 12, 31), date(2027, 1, 11), calendar) == 7
    with pytest.raises(CalendarError, match="year 2028 is not covered by calendar State "):
        calendar.is_workday(date(2028, 1, 3))


def test_a_bad_calendar_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nholidays: [2027-01-01]\n", encoding="utf-8")
    with pytest.raises(CalendarError, match=r"broken\.yaml: years: Field required"):
        get_calendar(str(path))
    with pytest.raises(CalendarError, match=r"missing\.yaml"):
        get_calendar(str(tmp_path / "missing.yaml"))


def test_a_calendar_file_changed_on_disk_is_read_again(tmp_path: Path) -> None:
    """A running runner or portal sees the calendar edited for a new year, unrestarted."""
    path = tmp_path / "cn-2027.yaml"
    path.write_text("name: draft notice for 2027\nyears: [2027]\nholidays: []\n",
                    encoding="utf-8")
    saturday, monday = date(2027, 2, 6), date(2027, 2, 8)
    assert not get_calendar(str(path)).is_workday(saturday)
    assert get_calendar(str(path)).is_workday(monday)
    assert get_calendar(str(path)) is get_calendar(str(path))  # unchanged: parsed once
    # The State Council's notice is published: a make-up Saturday and a holiday Monday.
    path.write_text("name: State Council notice for 2027\nyears: [2027]\n"
                    "holidays: [2027-02-08]\nworkdays: [2027-02-06]\n", encoding="utf-8")
    calendar = get_calendar(str(path))
    assert calendar.name.startswith("State Council notice for 2027")
    assert calendar.is_workday(saturday) and not calendar.is_workday(monday)
    # Replaced by a file of another name moved into place (a new inode).
    replacement = tmp_path / "new.yaml"
    replacement.write_text("name: corrected notice for 2027\nyears: [2027]\n"
                           "holidays: [2027-02-08]\nworkdays: [2027-02-06]\n",
                           encoding="utf-8")
    replacement.replace(path)
    assert get_calendar(str(path)).name.startswith("corrected notice for 2027")
