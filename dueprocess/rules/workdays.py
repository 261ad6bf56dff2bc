"""Working days on China's official calendar (holidays and weekend make-up workdays).

The default is the kept `chinesecalendar` library, which covers 2004–2026 and raises
outside. A calendar file (YAML or JSON) can stand in for it, e.g. for a year the library
does not cover yet:

    name: State Council holiday notice for 2027
    years: [2027]
    holidays: [2027-01-01, ...]   # weekdays off
    workdays: [2027-02-07, ...]   # weekend make-up workdays

A date in a year the calendar does not cover is an error that names the year: never a
guess from weekdays alone.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import chinese_calendar
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

LIBRARY = "chinesecalendar"


class CalendarError(ValueError):
    """A working day that cannot be known: uncovered year or unusable calendar file."""


class WorkingDayCalendar(Protocol):
    name: str

    def is_workday(self, day: date) -> bool: ...


class LibraryCalendar:
    name = LIBRARY

    def is_workday(self, day: date) -> bool:
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            raise CalendarError(
                f"year {day.year} is not covered by the chinesecalendar library "
                f"(2004–2026); configure a calendar file for {day.year}"
            ) from None


class CalendarFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    years: list[int] = Field(min_length=1)
    holidays: list[date] = Field(default_factory=list)
    workdays: list[date] = Field(default_factory=list, description="Make-up workdays")


class FileCalendar:
    def __init__(self, spec: CalendarFile, source: str) -> None:
        self.name = f"{spec.name} ({source})"
        self._years = frozenset(spec.years)
        self._holidays = frozenset(spec.holidays)
        self._workdays = frozenset(spec.workdays)

    def is_workday(self, day: date) -> bool:
        if day.year not in self._years:
            raise CalendarError(f"year {day.year} is not covered by calendar {self.name}")
        if day in self._workdays:
            return True
        return day not in self._holidays and day.weekday() < 5


_LIBRARY_CALENDAR = LibraryCalendar()


def get_calendar(spec: str = LIBRARY) -> WorkingDayCalendar:
    """The library calendar, or the calendar file at path `spec`.

    A file is read again when it changes on disk (its modification time, size or inode),
    so a running runner or portal sees a calendar edited or replaced for a new year
    without a restart; an unchanged file is parsed once."""
    if spec == LIBRARY:
        return _LIBRARY_CALENDAR
    path = Path(spec)
    try:
        stat = path.stat()
    except OSError as exc:
        raise CalendarError(f"calendar file {path}: {exc.strerror or exc}") from None
    return _read_calendar(str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino)


@lru_cache(maxsize=16)
def _read_calendar(path: str, mtime_ns: int, size: int, inode: int) -> FileCalendar:
    """The calendar file at `path` as it is on disk in the version the key names."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        return FileCalendar(CalendarFile.model_validate(data), path)
    except OSError as exc:
        raise CalendarError(f"calendar file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise CalendarError(f"calendar file {path}: not valid YAML/JSON: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'calendar'}: {e['msg']}"
            for e in exc.errors()
        )
        raise CalendarError(f"calendar file {path}: {problems}") from None


def working_days_after(start: date, end: date, calendar: WorkingDayCalendar) -> int:
    """Working days in (start, end]: the days a reviewer had after receiving on `start`."""
    count, day = 0, start + timedelta(days=1)
    while day <= end:
        count += calendar.is_workday(day)
        day += timedelta(days=1)
    return count
