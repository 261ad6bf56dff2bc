"""Settings of the public portal, read from `DUEPROCESS_*` environment variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PortalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DUEPROCESS_", env_file=".env", extra="ignore")

    portal_host: str = Field(default="127.0.0.1", description="Address `dueprocess portal` binds")
    portal_port: int = Field(default=8000, ge=1, le=65535)
    comment_max_chars: int = Field(default=5000, ge=1, description="Longest comment accepted")
    portal_max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Largest request body (any POST)"
    )
    comment_rate_count: int = Field(
        default=5, ge=1, description="Comments and subscriptions per client per window"
    )
    comment_rate_seconds: float = Field(default=60.0, gt=0)


@lru_cache(maxsize=1)
def get_portal_settings() -> PortalSettings:
    return PortalSettings()
