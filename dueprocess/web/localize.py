"""How a page writes dates, times, numbers, durations and enumerated values in its language.

Dates and numbers are formatted by babel from the CLDR data of the page's locale; every
time is shown in the portal's time zone (Asia/Shanghai unless DUEPROCESS_PORTAL_TIMEZONE
says otherwise), whatever the time zone it was stored in (UTC).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import (
    format_date,
    format_time,
    format_timedelta,
    get_timezone_gmt,
    get_timezone_name,
)
from babel.numbers import format_decimal

from dueprocess.web.i18n import (
    ANSWERS,
    CASE_STATUS,
    CITATIONS,
    OUTCOMES,
    STAGE_NAMES,
    STAGE_STATUS,
    TIMELINE,
    WORDS,
    Language,
)


def _aware(moment: datetime) -> datetime:
    """Stored times are UTC; a naive one (SQLite without tz) is read as UTC, never local."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Localizer:
    """The formatting of one language in one time zone; templates call it as `fmt`."""

    language: Language
    timezone: ZoneInfo
    locale: Locale = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "locale", Locale.parse(self.language, sep="-"))

    @property
    def words(self) -> dict[str, str]:
        return WORDS[self.language]

    def local(self, moment: datetime) -> datetime:
        return _aware(moment).astimezone(self.timezone)

    def when(self, moment: datetime | None) -> str:
        """Date and time to the minute, in the portal's zone: `2026年10月8日 08:00`."""
        if moment is None:
            return ""
        local = self.local(moment)
        pattern = self.locale.datetime_formats["medium"].replace("'", "")
        return (pattern.replace("{1}", format_date(local.date(), "medium", locale=self.locale))
                .replace("{0}", format_time(local, "short", tzinfo=self.timezone,
                                            locale=self.locale)))

    def day(self, value: datetime | date | str | None) -> str:
        """A date: a time's local date, a `date`, or an ISO 8601 date string."""
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            try:
                day = date.fromisoformat(value)
            except ValueError:
                return value  # not a date after all: shown as written, never dropped
        elif isinstance(value, datetime):
            day = self.local(value).date()
        else:
            day = value
        return format_date(day, "medium", locale=self.locale)

    def number(self, value: int) -> str:
        return format_decimal(value, locale=self.locale)

    def days(self, count: int) -> str:
        """`12 天` / `12 days` (CLDR plural rules), never rounded up to months."""
        return format_timedelta(timedelta(days=count), granularity="day", threshold=1e9,
                                locale=self.locale)

    def days_left(self, until: datetime, now: datetime) -> str:
        """What is left of a period, in whole days rounded up; under a day says so."""
        seconds = (_aware(until) - _aware(now)).total_seconds()
        if seconds < 86_400:
            return self.words["deadline_soon"]
        return self.words["days_left"].format(days=self.days(math.ceil(seconds / 86_400)))

    def zone(self, now: datetime) -> str:
        """`本页时间均为中国标准时间（GMT+08:00）`: the zone every time on the page is in."""
        local = self.local(now)
        return self.words["times_in"].format(
            zone=get_timezone_name(local, "long", locale=self.locale),
            offset=get_timezone_gmt(local, "long", locale=self.locale))

    def language_name(self, language: Language) -> str:
        """A language named in itself (`中文`, `English`), as a switch shows it."""
        return str(Locale.parse(language, sep="-").language_name)

    def stage(self, key: str, title: str, kind: str | None = None) -> str:
        names = STAGE_NAMES[self.language]
        return names.get(key) or (names.get(kind) if kind else None) or title

    def articles(self, citation: str) -> str:
        """A stage's legal basis as cited in the page's language (bundled procedures)."""
        for pattern, replacement in CITATIONS[self.language]:
            if re.match(pattern, citation):
                return re.sub(pattern, replacement, citation)
        return citation

    def case_status(self, status: str) -> str:
        return CASE_STATUS[self.language].get(status, status)

    def stage_status(self, status: str) -> str:
        return STAGE_STATUS[self.language].get(status, status)

    def answer(self, response: str) -> str:
        return ANSWERS[self.language].get(response, response)

    def outcome(self, outcome: str) -> str:
        return OUTCOMES[self.language].get(outcome, outcome)

    def event(self, event: str, params: dict[str, str]) -> str:
        """A timeline entry in words; unknown events fall back to their English text."""
        phrase = TIMELINE[self.language].get(event)
        if phrase is None:
            return params.get("what", event)
        values = dict(params)
        if "stage_key" in values:
            values["stage"] = self.stage(values["stage_key"], values.get("stage", ""),
                                         values.get("stage_kind"))
        if "outcome" in values:
            values["outcome"] = self.outcome(values["outcome"])
        return phrase.format_map(_Missing(values))


class _Missing(dict[str, str]):
    """format_map that leaves an unknown placeholder visible instead of raising."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
