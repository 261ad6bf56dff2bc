"""Escalations of missed stage deadlines, one per opening of a stage.

The deadline watchdog records a row when an open stage passes its deadline and, in the
same transaction, publishes `deadline.missed`; the unique key makes a rerun of the
watchdog escalate nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, timestamp_field


class StageEscalation(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("case_id", "stage_key", "stage_opened_at"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="decisioncase.id", index=True, max_length=32)
    stage_key: str = Field(max_length=64)
    stage_opened_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    deadline: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    deadline_days: int
    escalated_to: str = Field(max_length=64, description="Handle of the responsible official")
    detected_at: datetime = timestamp_field()
