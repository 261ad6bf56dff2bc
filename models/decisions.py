"""The recorded decision of a case (one per case)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from models.base import timestamp_field


class Decision(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="decisioncase.id", unique=True)
    evidence_id: int = Field(foreign_key="evidenceitem.id")
    outcome: str = Field(max_length=32)
    text: str = Field(sa_column=Column(Text, nullable=False))
    decided_by: str = Field(max_length=64, description="Handle of the administrative head")
    decided_on: str = Field(max_length=10, description="Meeting date, ISO 8601")
    draft_version: int
    recorded_at: datetime = timestamp_field()
