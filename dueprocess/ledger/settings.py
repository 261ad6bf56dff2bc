"""Settings of the transparency log (`DUEPROCESS_*` environment variables or `.env`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from dueprocess.settings import get_settings


class TransparencySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DUEPROCESS_", env_file=".env", extra="ignore")

    log_signing_key: Path | None = Field(
        default=None,
        description="Ed25519 private key (PKCS#8 PEM) that signs tree heads; generated on "
        "first use. Default: DATA_DIR/keys/log-signing-key.pem. Keep it out of the "
        "repository: whoever holds it can sign heads as the log.",
    )
    tree_head_dir: Path | None = Field(
        default=None,
        description="Where signed tree heads, consistency proofs and the public key are "
        "published as files. Default: DATA_DIR/transparency.",
    )

    @property
    def signing_key_path(self) -> Path:
        path = self.log_signing_key or get_settings().data_dir / "keys" / "log-signing-key.pem"
        return path.expanduser().resolve()

    @property
    def publication_dir(self) -> Path:
        path = self.tree_head_dir or get_settings().data_dir / "transparency"
        return path.expanduser().resolve()


def get_transparency_settings() -> TransparencySettings:
    # Not cached: read only when heads are signed, verified or exported.
    return TransparencySettings()
