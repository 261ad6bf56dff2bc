"""What one-time codes share between the programme's ballots and residents' evaluation
requests: the assurance level a vote or request was confirmed at, and the aggregated audit
of refused code guesses.

A refused guess is not a refusal row and never a log record of its own (anyone could
flood the log with them): guesses are counted per chain (`ballot-<id>`,
`follow-up-<case>`) and minute in `CodeGuesses`, working state until its minute is over,
when the count is logged as one `code_guesses.counted` record on that chain
(`notifications.one_time_codes`). The sum of a chain's rows is its spent attempt budget.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime


class Assurance(StrEnum):
    """How sure dueprocess is that one person stands behind a vote or request."""

    VERIFIED = "verified"  # a known person: an expert's credential, a verified resident
    CHANNEL = "channel"  # control of a channel, proven by a one-time code sent to it


class CodeGuesses(SQLModel, table=True):
    """Wrong code guesses on one chain in one minute (UTC), logged once the minute is over."""

    __table_args__ = (UniqueConstraint("chain", "minute"),)

    id: int | None = Field(default=None, primary_key=True)
    chain: str = Field(max_length=64, index=True)
    minute: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    count: int = Field(default=0, ge=0)
    logged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
