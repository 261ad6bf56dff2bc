"""The clock of a case run on simulated time (demo and tests).

A case opened on simulated time has one row here: its time is the real time plus
`offset_seconds`. The row lives in the case database, so every process (flow workers,
portal, CLI) sees the same case time; advancing it is a logged case event.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import timestamp_field


class CaseClock(SQLModel, table=True):
    case_id: str = Field(foreign_key="decisioncase.id", primary_key=True, max_length=32)
    offset_seconds: float = Field(description="Case time minus real time")
    created_at: datetime = timestamp_field()
