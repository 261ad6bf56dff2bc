"""Runtime settings, read from `DUEPROCESS_*` environment variables (or a `.env` file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
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
    pause_poll_seconds: int = Field(default=1, ge=1)
    pause_timeout_seconds: int = Field(default=3600, ge=1)
    resume_wait_seconds: float = Field(
        default=30.0, ge=0, description="How long `record` waits for the run to reach its gate."
    )
    deployment_name: str = "major-decision/major-decision"

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
