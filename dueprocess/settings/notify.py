"""Notifications: the language and channels of notices, the key encrypting subscriber
URLs, and the leased delivery of the outbox."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from dueprocess.settings.core import get_settings

# Apprise schemes a public subscriber may use. Operators' own channels (the Apprise YAML
# file) may use any scheme; a public form is narrower because delivery connects out to it.
DEFAULT_SUBSCRIBER_SCHEMES = (
    "mailto", "mailtos", "json", "jsons", "form", "forms", "xml", "xmls", "ntfy", "ntfys",
    "gotify", "gotifys", "tgram", "discord", "slack", "matrix", "matrixs", "dingtalk",
    "wecombot", "feishu", "lark", "rocket", "rockets", "mmost", "mmosts",
)


class NotifySettings(BaseSettings):
    """Notices to the public and to reviewers: their language, the operators' Apprise
    channels, the key encrypting subscriber URLs and the leased delivery of the outbox.
    The data directory is the core's (`DUEPROCESS_DATA_DIR`)."""

    model_config = SettingsConfigDict(env_prefix="DUEPROCESS_", env_file=".env", extra="ignore")

    notify_language: Literal["zh-CN", "en"] = Field(
        default="zh-CN", description="Language notices are rendered in"
    )
    apprise_config: Path | None = Field(
        default=None,
        description="Apprise YAML configuration of operator channels (officials, reviewers); "
        "default: apprise.yaml in the data directory when present",
    )
    notify_secret_key: SecretStr | None = Field(
        default=None,
        description="Fernet key encrypting subscriber URLs; default: the key file "
        "DUEPROCESS_NOTIFY_KEY_FILE, created once (mode 0600)",
    )
    notify_key_file: Path | None = Field(
        default=None,
        description="Key file used when DUEPROCESS_NOTIFY_SECRET_KEY is unset. Default: "
        "DATA_DIR-keys/notify.key, beside the signing key and apart from the database it "
        "protects; a DATA_DIR/notify.key of earlier versions is moved there, never "
        "regenerated (stored subscriber URLs need it).",
    )
    portal_url: str = Field(
        default="http://127.0.0.1:8000", description="Public address of the portal, for links"
    )
    notify_max_attempts: int = Field(
        default=5, ge=1, description="Attempts, then a delivery is failed"
    )
    notify_backoff_seconds: float = Field(default=30.0, gt=0, description="First retry delay")
    notify_backoff_max_seconds: float = Field(
        default=3600.0, gt=0, description="Longest retry delay (the delay doubles up to it)"
    )
    notify_concurrency: int = Field(
        default=32, ge=1, le=256, description="Messages sent at once per delivering process"
    )
    notify_batch_size: int = Field(
        default=500, ge=1, le=10_000, description="Deliveries claimed at a time"
    )
    notify_lease_seconds: float = Field(
        default=300.0, gt=0, description="A claimed delivery is retried after this long"
    )
    notify_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Time limit of sending one message"
    )
    notify_delivery_interval_seconds: int = Field(
        default=30, ge=0, description="Schedule of the deliver-notices deployment; 0: none"
    )
    notify_reminder_days: int = Field(
        default=3, ge=0, description="Reminder this many days before a stage deadline"
    )
    notify_subscriber_schemes: tuple[str, ...] = Field(
        default=DEFAULT_SUBSCRIBER_SCHEMES,
        description="JSON list of the Apprise schemes a public subscriber may use "
        "(operators' own channels may use any)",
    )
    notify_allow_private_targets: bool = Field(
        default=False,
        description="Let public subscriptions reach loopback, private, link-local and other "
        "non-public addresses (tests and closed networks only: otherwise anyone can make the "
        "portal probe the hosts behind it)",
    )

    @property
    def data_dir(self) -> Path:
        """The data directory: the core's (`get_settings().data_dir`), not declared here."""
        return get_settings().data_dir

    @property
    def notify_key_path(self) -> Path:
        data_dir = self.data_dir
        default = data_dir.parent / f"{data_dir.name}-keys" / "notify.key"
        return (self.notify_key_file or default).expanduser().resolve()

    @property
    def legacy_notify_key_path(self) -> Path:
        """Where versions before issue 23 kept the key: beside the database."""
        return self.data_dir / "notify.key"

    @property
    def apprise_config_path(self) -> Path | None:
        if self.apprise_config is not None:
            return self.apprise_config
        default = self.data_dir / "apprise.yaml"
        return default if default.is_file() else None


def get_notify_settings() -> NotifySettings:
    """The settings for the current `DUEPROCESS_*` environment.

    Cached per environment, not once per process: a copy read before a variable was set
    (at import, in a test session) would otherwise keep the old value. The data directory
    is the core settings' (`get_settings()`, re-read after `get_settings.cache_clear()`).
    """
    return _settings_for(tuple(sorted(
        (name, value) for name, value in os.environ.items() if name.startswith("DUEPROCESS_")
    )))


@lru_cache(maxsize=8)
def _settings_for(environment: tuple[tuple[str, str], ...]) -> NotifySettings:
    return NotifySettings()
