"""The case database and recording: where the data lives, what evidence is accepted, how a
case's flow run waits at a gate."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """The case database, evidence limits and how a case's flow run waits at a gate. Other
    sections that need the data directory read it from here (`get_settings().data_dir`)."""

    model_config = SettingsConfigDict(env_prefix="DUEPROCESS_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=Path(".dueprocess"),
        description="Where the embedded default keeps its SQLite files, keys and Prefect home.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the case database; default: SQLite under data_dir.",
    )
    max_document_bytes: int = Field(
        default=5 * 1024 * 1024, gt=0, description="Largest document accepted in evidence."
    )
    max_evidence_bytes: int = Field(
        default=256 * 1024, gt=0, description="Largest evidence JSON (without documents)."
    )
    wait_mode: Literal["suspend", "pause"] = Field(
        default="suspend",
        description="suspend: a gate holds no process (served deployment); "
        "pause: the flow process stays alive (in-process demo and benchmarks).",
    )
    pause_poll_seconds: int = Field(
        default=1, ge=1, description="Poll interval of a paused flow run (pause mode)."
    )
    pause_timeout_seconds: int = Field(
        default=3600, ge=1,
        description="How long a paused flow run waits at a gate for input (pause mode).",
    )
    resume_wait_seconds: float = Field(
        default=30.0, ge=0, description="How long `record` waits for the run to reach its gate."
    )
    deployment_name: str = Field(
        default="major-decision/major-decision",
        description="The deployment (flow/deployment) whose runs drive a case.",
    )
    case_timezone: str = Field(
        default="Asia/Shanghai",
        description="Time zone of a case's calendar dates (typed dates, working days).",
    )
    allow_simulated_time: bool = Field(
        default=False,
        description="Marks a demo or test stack: cases may be opened on a simulated clock. "
        "A stack for real use leaves it off and refuses simulated time.",
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        # Child processes (runner, flow runs) may start in another directory.
        return value.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'dueprocess.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
