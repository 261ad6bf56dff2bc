"""Append-only evidence, refused submissions, documents, and the gate waits of a flow run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import JSONColumn, UTCDateTime, timestamp_field


class EvidenceItem(SQLModel, table=True):
    """One accepted piece of stage evidence. Never updated or deleted."""

    __table_args__ = (UniqueConstraint("case_id", "idempotency_key"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="decisioncase.id", index=True)
    stage_key: str = Field(max_length=64)
    kind: str = Field(max_length=64)
    payload: dict[str, Any] = Field(sa_column=Column(JSONColumn, nullable=False))
    payload_sha256: str = Field(max_length=64, description="SHA-256 of RFC 8785 payload bytes")
    recorded_by: str = Field(max_length=64)
    draft_version: int
    idempotency_key: str = Field(max_length=200)
    channel: str = Field(max_length=32, description="cli, prefect-form, api, demo")
    recorded_at: datetime = timestamp_field()


class Refusal(SQLModel, table=True):
    """Audit record of a refused submission: who tried what, and which rules refused it."""

    __table_args__ = (UniqueConstraint("case_id", "idempotency_key"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(max_length=32, index=True)
    stage_key: str | None = Field(default=None, max_length=64)
    submitted_by: str | None = Field(default=None, max_length=64)
    channel: str = Field(max_length=32)
    idempotency_key: str | None = Field(default=None, max_length=200)
    reasons: list[dict[str, str]] = Field(sa_column=Column(JSONColumn, nullable=False))
    recorded_at: datetime = timestamp_field()


class Document(SQLModel, table=True):
    """Content-addressed document bytes referenced from evidence payloads."""

    sha256: str = Field(primary_key=True, max_length=64)
    media_type: str = Field(max_length=100)
    size: int
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    stored_at: datetime = timestamp_field()


class GateWait(SQLModel, table=True):
    """One suspension of a case's flow run, waiting for a submission.

    Its `key` is the Prefect pause key, so a flow body that reruns from the top reaches the
    same key, gets the same input back, and consumes it at most once.
    """

    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="decisioncase.id", index=True)
    seq: int
    key: str = Field(max_length=100)
    flow_run_id: str = Field(max_length=64)
    stage_keys: list[str] = Field(sa_column=Column(JSONColumn, nullable=False))
    created_at: datetime = timestamp_field()
    consumed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    evidence_id: int | None = Field(default=None, foreign_key="evidenceitem.id")
    refusal_id: int | None = Field(default=None, foreign_key="refusal.id")
