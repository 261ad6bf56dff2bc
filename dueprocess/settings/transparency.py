"""The transparency log: its signing key, its name, when tree heads are signed and where
they are published."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dueprocess.settings.core import get_settings


class TransparencySettings(BaseSettings):
    """The transparency log: its signing key, its name in checkpoints, when tree heads are
    signed and where they are published. The data directory is the core's
    (`DUEPROCESS_DATA_DIR`)."""

    model_config = SettingsConfigDict(env_prefix="DUEPROCESS_", env_file=".env", extra="ignore")

    log_signing_key: Path | None = Field(
        default=None,
        description="Ed25519 private key (PKCS#8 PEM) that signs tree heads; generated on "
        "first use. Default: DATA_DIR-keys/log-signing-key.pem, a sibling of the data "
        "directory: the key is kept apart from the database, and a key inside DATA_DIR or "
        "readable by others is refused. Whoever holds it can sign heads as the log.",
    )
    allow_exposed_signing_key: bool = Field(
        default=False,
        description="Tests and demos only: accept a signing key inside the data directory "
        "or readable by group or others.",
    )
    log_origin: str | None = Field(
        default=None, max_length=200, pattern=r"^[^\s+]+$",
        description="The log's name in its C2SP checkpoints (origin line and note key "
        "name), e.g. example.gov.cn/dueprocess. Default: dueprocess/<key id prefix>.",
    )
    sign_heads_on_decision: bool = Field(
        default=True,
        description="Sign a tree head right after a case is decided or closed (the "
        "scheduled sign-heads deployment covers everything else).",
    )
    max_unsigned_seconds: int = Field(
        default=60, ge=1,
        description="The bound on the unsigned tail: the longest a logged record may wait "
        "for a signed tree head to cover it. The sign-heads deployment runs at least this "
        "often, and `dueprocess verify` warns when the oldest unsigned record is older.",
    )
    sign_heads_interval_seconds: int | None = Field(
        default=None, ge=0,
        description="How often the sign-heads deployment signs a head if the log grew. "
        "Default: DUEPROCESS_MAX_UNSIGNED_SECONDS; a larger value is capped at it. 0: not "
        "scheduled (sign heads within the bound some other way, e.g. `dueprocess "
        "publish-head` from cron).",
    )
    witnesses: str = Field(
        default="", max_length=10_000,
        description="The witnesses the log asks to cosign each new checkpoint (C2SP "
        "tlog-witness add-checkpoint), comma-separated, each `<URL> <verifier key>`: the "
        "witness's submission prefix and its C2SP note verifier key (name+keyid+base64, "
        "as `dueprocess witness-keygen` prints it). `dueprocess verify` asks the same "
        "witnesses for the newest checkpoint they cosigned. Empty: no witnesses.",
    )
    witness_timeout_seconds: float = Field(
        default=5.0, gt=0, le=120,
        description="How long the log waits for one witness; a witness that is down never "
        "blocks signing (it is asked again with the next head).",
    )
    witness_max_age_seconds: int = Field(
        default=86_400, ge=1,
        description="`dueprocess verify` warns when the newest checkpoint a witness "
        "cosigned is older than this: records after it are vouched for by the log alone.",
    )
    tree_head_dir: Path | None = Field(
        default=None,
        description="Where signed tree heads, consistency proofs and the public key are "
        "published as files. Default: DATA_DIR/transparency.",
    )

    @property
    def sign_heads_every_seconds(self) -> int | None:
        """The sign-heads deployment's schedule: the bound on the unsigned tail, or the
        operator's interval if that is lower; None when the operator turned it off (0)."""
        interval = self.sign_heads_interval_seconds
        if interval == 0:
            return None
        return min(interval or self.max_unsigned_seconds, self.max_unsigned_seconds)

    @field_validator("witnesses")
    @classmethod
    def _witness_entries(cls, value: str) -> str:
        for entry in filter(None, (e.strip() for e in value.split(","))):
            parts = entry.split()
            if len(parts) != 2 or not parts[0].startswith(("http://", "https://")):
                raise ValueError(f"each entry must be '<http(s) URL> <verifier key>', not "
                                 f"{entry[:60]!r}")
        return value

    @property
    def witness_entries(self) -> list[tuple[str, str]]:
        """(URL, verifier key) of each registered witness."""
        return [(parts[0].rstrip("/"), parts[1]) for parts in
                (e.split() for e in self.witnesses.split(",") if e.strip())]

    @property
    def signing_key_path(self) -> Path:
        data_dir = get_settings().data_dir
        default = data_dir.parent / f"{data_dir.name}-keys" / "log-signing-key.pem"
        return (self.log_signing_key or default).expanduser().resolve()

    @property
    def legacy_signing_key_path(self) -> Path:
        """Where versions before 0005 generated the key (inside the data directory)."""
        return get_settings().data_dir / "keys" / "log-signing-key.pem"

    @property
    def publication_dir(self) -> Path:
        path = self.tree_head_dir or get_settings().data_dir / "transparency"
        return path.expanduser().resolve()


def get_transparency_settings() -> TransparencySettings:
    # Not cached: read only when heads are signed, verified or exported.
    return TransparencySettings()
