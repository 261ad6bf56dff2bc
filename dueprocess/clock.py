"""The clock dueprocess owns: every witnessed time comes from here, never from a typed date.

`system_now()` is the real UTC time unless a test injects another clock with `use_clock`.
A case opened on simulated time adds its offset (`dueprocess.services.case_clock`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
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
