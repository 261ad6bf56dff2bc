"""The per-case state of each procedure stage."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime


class StageStatus(StrEnum):
    PENDING = "pending"  # prerequisites not completed
    OPEN = "open"  # waiting for evidence
    COMPLETED = "completed"  # gate passed


class Stage(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("case_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="decisioncase.id", index=True)
    key: str = Field(max_length=64)
    status: StageStatus = Field(default=StageStatus.PENDING)
    opened_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
