"""The reviewer inbox of the portal: its sessions and its login, read from
`DUEPROCESS_PORTAL_*` environment variables."""

from __future__ import annotations

import secrets
from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class InboxSettings(BaseSettings):
    """The portal's reviewer inbox: session cookies and the login (a local password, or
    OpenID Connect). Its variables start with `DUEPROCESS_PORTAL_`."""

    model_config = SettingsConfigDict(env_prefix="DUEPROCESS_PORTAL_", env_file=".env",
                                      extra="ignore")

    session_secret: SecretStr = Field(
        default_factory=lambda: SecretStr(secrets.token_urlsafe(32)),
        description="Signs inbox session cookies; default: a new secret per process "
        "(sessions end when the portal restarts). Set it when running several portals.")
    session_minutes: int = Field(default=30, ge=1, le=24 * 60,
                                 description="An inbox session expires this long after login")
    cookie_secure: bool = Field(default=True, description="Send inbox cookies over HTTPS "
                                "only; turn off only for a portal on plain-HTTP loopback")
    oidc_issuer: str | None = Field(default=None, description="OpenID Connect issuer URL; "
                                    "unset: only the local password login")
    oidc_client_id: str = Field(default="dueprocess-portal",
                                description="The portal's client id at the OIDC provider")
    oidc_client_secret: SecretStr = Field(default=SecretStr(""),
                                          description="Its client secret (empty: a public "
                                          "client)")
    public_url: str | None = Field(default=None, description="The portal's external URL, "
                                   "for the OIDC redirect (default: the request's own URL)")


@lru_cache(maxsize=1)
def get_inbox_settings() -> InboxSettings:
    return InboxSettings()
