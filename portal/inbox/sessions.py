"""Inbox sessions: a signed cookie that names the person, expires, and carries a CSRF token.

The cookie is HttpOnly and SameSite=Strict, and Secure unless the operator runs the portal
on plain-HTTP loopback; its signature carries the time of login, so an old cookie is
refused on the server side whatever the browser does with its max-age. Forms carry the
session's CSRF token, and a POST whose Origin is another site is refused as well.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from dueprocess.db import session_scope
from dueprocess.services.identity import holds_active
from dueprocess.settings import InboxSettings, get_inbox_settings
from models.people import CredentialKind

SESSION_COOKIE = "dp_inbox"
PRE_LOGIN_COOKIE = "dp_inbox_login"  # CSRF for the login forms (no session yet)
OIDC_COOKIE = "dp_inbox_oidc"  # state, nonce and PKCE verifier of a login in progress
OIDC_MINUTES = 10
PATH = "/inbox"


@dataclass(frozen=True)
class InboxSession:
    handle: str
    method: str
    csrf: str


def settings_of(request: Request) -> InboxSettings:
    """The app's inbox settings (tests set `app.state.inbox_settings`)."""
    configured = getattr(request.app.state, "inbox_settings", None)
    return configured if isinstance(configured, InboxSettings) else get_inbox_settings()


def _serializer(settings: InboxSettings, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.session_secret.get_secret_value(),
                                  salt=f"dueprocess-inbox-{purpose}")


def sign(settings: InboxSettings, purpose: str, data: dict[str, Any]) -> str:
    return _serializer(settings, purpose).dumps(data)


def unsign(settings: InboxSettings, purpose: str, value: str | None,
           max_age_seconds: int) -> dict[str, Any] | None:
    if not value:
        return None
    try:
        data = _serializer(settings, purpose).loads(value, max_age=max_age_seconds)
    except BadSignature:  # SignatureExpired is a BadSignature
        return None
    return data if isinstance(data, dict) else None


def set_cookie(response: Response, settings: InboxSettings, name: str, value: str, *,
               max_age: int, same_site: str = "strict") -> None:
    response.set_cookie(name, value, max_age=max_age, path=PATH, httponly=True,
                        secure=settings.cookie_secure, samesite=same_site)  # type: ignore[arg-type]


def current_session(request: Request) -> InboxSession | None:
    """The signed, unexpired session, while its person still holds the credential they
    logged in with (revoking it ends the session at the next request)."""
    settings = settings_of(request)
    data = unsign(settings, "session", request.cookies.get(SESSION_COOKIE),
                  settings.session_minutes * 60)
    if data is None:
        return None
    current = InboxSession(handle=str(data["h"]), method=str(data["m"]), csrf=str(data["c"]))
    kind = CredentialKind.OIDC if current.method == "oidc" else CredentialKind.PASSWORD
    with session_scope() as session:
        if not holds_active(session, handle=current.handle, kind=kind):
            return None
    return current


def start_session(response: Response, request: Request, *, handle: str, method: str) -> None:
    settings = settings_of(request)
    value = sign(settings, "session", {"h": handle, "m": method,
                                       "c": secrets.token_urlsafe(24)})
    set_cookie(response, settings, SESSION_COOKIE, value,
               max_age=settings.session_minutes * 60)


def end_session(response: Response, request: Request) -> None:
    settings = settings_of(request)
    response.delete_cookie(SESSION_COOKIE, path=PATH, httponly=True,
                           secure=settings.cookie_secure, samesite="strict")


def same_origin(request: Request) -> bool:
    """A POST from a page of this portal: the browser's Sec-Fetch-Site, when sent, says
    so, and an Origin header, when it names one, is ours. (The portal's no-referrer policy
    makes browsers send `Origin: null` for its own forms, so null proves nothing either
    way; the session's CSRF token is checked as well.)"""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True
    own = f"{request.url.scheme}://{request.url.netloc}"
    public = settings_of(request).public_url
    return origin in {own, (public or own).rstrip("/")}


def csrf_ok(expected: str | None, presented: object) -> bool:
    return (isinstance(presented, str) and expected is not None
            and hmac.compare_digest(expected.encode(), presented.encode()))
