"""One-time codes (a public voter's, a resident asking for an evaluation): how a channel is
canonicalised before it is hashed, and how many wrong guesses a code and a ballot take."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CodeSettings(BaseSettings):
    """One-time codes sent to a resident's channel (`notifications.one_time_codes`): the
    `+tag` rule of email addresses, the wrong attempts a code survives and the default
    attempt budget of a ballot."""

    model_config = SettingsConfigDict(env_prefix="DUEPROCESS_", env_file=".env", extra="ignore")

    code_email_plus_tags: Literal["strip", "keep"] = Field(
        default="strip",
        description="strip: alice+vote2@example.org is the channel alice@example.org (one "
        "mailbox, one code, one vote); keep: for a mail service where +tags are separate "
        "mailboxes",
    )
    code_max_attempts: int = Field(
        default=5, ge=1, le=100,
        description="A one-time code dies after this many wrong attempts",
    )
    ballot_attempt_budget: int = Field(
        default=10_000, ge=1, le=10_000_000,
        description="Wrong code attempts a new ballot takes in all (its `attempt_budget` "
        "when the ballot file gives none); past it every code is refused (VOTE-GUESS-BUDGET)",
    )


def get_code_settings() -> CodeSettings:
    return CodeSettings()  # read per call: codes are asked for by people, not in bulk
