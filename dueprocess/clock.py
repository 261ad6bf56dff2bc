"""The clock dueprocess owns: every witnessed time comes from here, never from a typed date.

`system_now()` is the real UTC time unless a test injects another clock with `use_clock`.
A case opened on simulated time adds its offset (`dueprocess.services.case_clock`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]


def _real() -> datetime:
    return datetime.now(UTC)


_clock: list[Clock] = [_real]


def system_now() -> datetime:
    """The system's current time (timezone-aware UTC)."""
    return _clock[-1]()


@contextmanager
def use_clock(clock: Clock) -> Iterator[None]:
    """Inject a clock for the duration of a block (tests)."""
    _clock.append(clock)
    try:
        yield
    finally:
        _clock.remove(clock)


def local_date(moment: datetime, timezone: str) -> date:
    """The calendar date of a moment in a case's time zone."""
    return moment.astimezone(ZoneInfo(timezone)).date()


# How a notice names a case's time zone, in Chinese and in English.
ZONE_NAMES: dict[str, tuple[str, str]] = {"Asia/Shanghai": ("北京时间", "Beijing time")}


def end_of_day(day: date, timezone: str) -> datetime:
    """24:00 of `day` in a time zone (00:00 of the next day there), as a UTC time: a
    period whose last day is `day` is open until then."""
    start = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(timezone))
    return start.astimezone(UTC)


def last_day(end: datetime, timezone: str) -> date:
    """The last day of a period open until `end`: 24:00 belongs to the day it ends."""
    return local_date(end - timedelta(microseconds=1), timezone)


def comment_window_close(opens_at: datetime, days: int, timezone: str) -> datetime:
    """When a comment window published at `opens_at` for `days` days closes: at 24:00 of
    its last published day, the opening day plus `days` (Art. 15), never earlier in the
    day than the notice's "to <day>" says. It is never shorter than `days` × 24 hours."""
    return end_of_day(local_date(opens_at, timezone) + timedelta(days=days), timezone)


def zoned_time(moment: datetime, timezone: str, language: str = "en", *,
               end: bool = False) -> str:
    """A moment to the minute in a case's time zone, named as a notice names it:
    `2026年9月1日 09:00（北京时间）` or `2026-09-01 09:00 Beijing time`. The `end` of a
    period at midnight is written 24:00 of the day before, the day it closes."""
    local = moment.astimezone(ZoneInfo(timezone))
    day, hour = local.date(), f"{local:%H:%M}"
    if end and local.time() == time(0):
        day, hour = day - timedelta(days=1), "24:00"
    chinese, english = ZONE_NAMES.get(timezone, (timezone, timezone))
    if language.startswith("zh"):
        return f"{day.year}年{day.month}月{day.day}日 {hour}（{chinese}）"
    return f"{day.isoformat()} {hour} {english}"


def closing_time(end: datetime, timezone: str, language: str = "en") -> str:
    """A period's end as a notice gives it: `2026年10月1日 24:00（北京时间）` or
    `2026-10-01 24:00 Beijing time`; an end at midnight is 24:00 of the day before."""
    return zoned_time(end, timezone, language, end=True)
