"""How a page writes dates, times, numbers, durations and enumerated values in its language.

Dates and numbers are formatted by babel from the CLDR data of the page's locale; every
time is shown in the portal's time zone (Asia/Shanghai unless DUEPROCESS_PORTAL_TIMEZONE
says otherwise), whatever the time zone it was stored in (UTC).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from gettext import GNUTranslations
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

from dueprocess.i18n import Language, translations
from dueprocess.i18n.stages import cited, stage_name
from dueprocess.i18n.values import ANSWER_VALUES, value_label


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
    def catalogue(self) -> GNUTranslations:
        """The messages of this language (`dueprocess.i18n`)."""
        return translations(self.language)

    def local(self, moment: datetime) -> datetime:
        return _aware(moment).astimezone(self.timezone)

    def when(self, moment: datetime | None) -> str:
        """Date and time to the minute, in the portal's zone: `2026年10月8日 08:00`."""
        if moment is None:
            return ""
        local = self.local(moment)
        return self._at(local.date(), format_time(local, "short", tzinfo=self.timezone,
                                                  locale=self.locale))

    def closes(self, moment: datetime | None) -> str:
        """When a period ends, to the minute: an end at midnight is 24:00 of the day it
        closes (`2026年10月1日 24:00`), never 00:00 of the next."""
        if moment is None:
            return ""
        local = self.local(moment)
        if local.time() != time(0):
            return self.when(moment)
        return self._at(local.date() - timedelta(days=1), "24:00")

    def _at(self, day: date, clock: str) -> str:
        """A day and a time of day, as the locale writes a date with its time."""
        pattern = self.locale.datetime_formats["medium"].replace("'", "")
        return (pattern.replace("{1}", format_date(day, "medium", locale=self.locale))
                .replace("{0}", clock))

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
        """What is left of a period in whole days, rounded down so a deadline never seems
        further off than it is (a window opened at 09:00 and open until 24:00 of its 30th
        day has 30 days left); under a day says so."""
        seconds = (_aware(until) - _aware(now)).total_seconds()
        if seconds < 86_400:
            return self.catalogue.gettext("less than a day left")
        return self.catalogue.gettext("{days} left").format(
            days=self.days(math.floor(seconds / 86_400)))

    def zone(self, now: datetime) -> str:
        """`本页时间均为中国标准时间（GMT+08:00）`: the zone every time on the page is in."""
        local = self.local(now)
        return self.catalogue.gettext("Times on this page are {zone} ({offset})").format(
            zone=get_timezone_name(local, "long", locale=self.locale),
            offset=get_timezone_gmt(local, "long", locale=self.locale))

    def language_name(self, language: Language) -> str:
        """A language named in itself (`中文`, `English`), as a switch shows it."""
        return str(Locale.parse(language, sep="-").language_name)

    def stage(self, key: str, title: str, kind: str | None = None) -> str:
        """A stage's name in this language (`dueprocess.i18n.stages.stage_name`)."""
        return stage_name(self.language, key, title, kind)

    def articles(self, citation: str) -> str:
        """A stage's legal basis as cited in this language (bundled procedures)."""
        return cited(self.language, citation)

    def case_status(self, status: str) -> str:
        t = self.catalogue
        return {
            "open": t.pgettext("case status", "in progress"),
            "decided": t.pgettext("case status", "decided, to be published"),
            "closed": t.pgettext("case status", "closed"),
        }.get(status, status)

    def stage_status(self, status: str) -> str:
        t = self.catalogue
        return {
            "pending": t.pgettext("stage status", "not started"),
            "open": t.pgettext("stage status", "in progress"),
            "completed": t.pgettext("stage status", "completed"),
        }.get(status, status)

    def answer(self, response: str) -> str:
        """The answer to a group of opinions (adopted, partly, not)."""
        return value_label(self.language, response) if response in ANSWER_VALUES else response

    def outcome(self, outcome: str) -> str:
        """A decision's or a review's outcome, in the notices' own words."""
        return value_label(self.language, outcome)

    def timeline(self) -> dict[str, str]:
        """The phrase of each timeline event ({stage}, {outcome}, …: its parameters)."""
        t = self.catalogue
        return {
            "case_opened": t.gettext("case opened"),
            "draft_revised": t.gettext("draft version {version}: {title}"),
            "stage_opened": t.gettext("{stage}: opened"),
            "stage_completed": t.gettext("{stage}: completed"),
            "window_opened": t.gettext("comment window opened"),
            "window_closed": t.gettext("comment window closed"),
            "decision_recorded": t.gettext("decision recorded: {outcome}"),
            "notice": t.gettext("notice: {subject}"),
        }

    def event(self, event: str, params: dict[str, str]) -> str:
        """A timeline entry in words; unknown events fall back to their English text."""
        phrase = self.timeline().get(event)
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
