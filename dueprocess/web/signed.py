"""Values a browser keeps for the portal (a login's pending state, a session's token),
signed with the portal's session secret and expiring: the reviewers' inbox and the
residents' login share them, each under its own purposes (the signature's salt)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from dueprocess.settings import InboxSettings, get_inbox_settings

__all__ = ["login_settings", "sign", "unsign"]


def login_settings(request: Request) -> InboxSettings:
    """The app's login settings (tests set `app.state.inbox_settings`)."""
    configured = getattr(request.app.state, "inbox_settings", None)
    return configured if isinstance(configured, InboxSettings) else get_inbox_settings()


def _serializer(settings: InboxSettings, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.session_secret.get_secret_value(),
                                  salt=f"dueprocess-{purpose}")


def sign(settings: InboxSettings, purpose: str, data: dict[str, Any]) -> str:
    return _serializer(settings, purpose).dumps(data)


def unsign(settings: InboxSettings, purpose: str, value: str | None,
           max_age_seconds: int) -> dict[str, Any] | None:
    """The signed dict, or None when missing, forged, expired or of another purpose."""
    if not value:
        return None
    try:
        data = _serializer(settings, purpose).loads(value, max_age=max_age_seconds)
    except BadSignature:  # SignatureExpired is a BadSignature
        return None
    return data if isinstance(data, dict) else None
