"""How the portal presents a case to the public: its time zone and the feeds' ids.

Kept apart from `dueprocess.settings.portal` (limits of the portal's inputs): these only
change how pages and feeds read, never what is accepted.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# RFC 4151: taggingEntity = authorityName "," date; authorityName a DNS name or an e-mail.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_DNS_NAME = rf"{_LABEL}(?:\.{_LABEL})*"
TAG_AUTHORITY = re.compile(rf"^(?:[A-Za-z0-9._%+-]+@)?{_DNS_NAME}$")
TAG_DATE = re.compile(r"^\d{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?)?$")


class PresentationSettings(BaseSettings):
    """How the portal presents a case to the public: the time zone of its pages and the
    `tag:` ids of its feeds. These change how pages read, never what is accepted."""

    model_config = SettingsConfigDict(env_prefix="DUEPROCESS_", env_file=".env", extra="ignore")

    portal_timezone: str = Field(
        default="Asia/Shanghai", description="IANA time zone the portal shows times in"
    )
    feed_tag_authority: str = Field(
        default="dueprocess", max_length=200,
        description="Domain (or e-mail) owned by the publisher, for the feeds' tag: ids "
        "(RFC 4151); set it once and never change it, or readers see every entry again",
    )
    feed_tag_date: str = Field(
        default="2019-09-01", description="A date the authority was owned on (YYYY[-MM[-DD]])"
    )

    @field_validator("portal_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not an IANA time zone, e.g. Asia/Shanghai") from None
        return value

    @field_validator("feed_tag_authority")
    @classmethod
    def _authority(cls, value: str) -> str:
        if not TAG_AUTHORITY.match(value):
            raise ValueError(f"'{value}' is not a domain name or e-mail address (RFC 4151)")
        return value.lower()

    @field_validator("feed_tag_date")
    @classmethod
    def _date(cls, value: str) -> str:
        if not TAG_DATE.match(value):
            raise ValueError(f"'{value}' is not a date as YYYY, YYYY-MM or YYYY-MM-DD (RFC 4151)")
        return value

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.portal_timezone)

    @property
    def tag_prefix(self) -> str:
        """`tag:authority,date:` — every feed and entry id starts with it."""
        return f"tag:{self.feed_tag_authority},{self.feed_tag_date}:"


def get_presentation_settings() -> PresentationSettings:
    """The settings for the current `DUEPROCESS_*` environment (cached per environment)."""
    return _settings_for(tuple(sorted(
        (name, value) for name, value in os.environ.items() if name.startswith("DUEPROCESS_")
    )))


@lru_cache(maxsize=8)
def _settings_for(environment: tuple[tuple[str, str], ...]) -> PresentationSettings:
    return PresentationSettings()
