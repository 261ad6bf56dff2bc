"""Inbox sessions, held on the server: a row per login (`models.people.InboxLogin`), named
by a signed, expiring cookie that carries a random token and the session's CSRF token.

A session opens the inbox while its row is not ended, not expired and the credential it
logged in with is not revoked: logout, ending it on the sessions page, a password change
(which revokes the old password) and a revocation all end it at the next request, whatever
the browser still holds. The cookie is HttpOnly and SameSite=Strict, and Secure unless the
operator runs the portal on plain-HTTP loopback; its signature carries the time of login as
well. Forms carry the session's CSRF token, and a POST whose Origin is another site is
refused as well.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request, Response
from sqlmodel import Session, col, select

from dueprocess.db import session_scope
from dueprocess.settings import InboxSettings
from dueprocess.web.signed import login_settings, sign, unsign
from models.base import utcnow
from models.people import Credential, CredentialKind, InboxLogin, Person

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
    login_id: int = 0  # the server's row (`InboxLogin.id`)
    name: str = ""  # the person's name, as pages greet them


@dataclass(frozen=True)
class SessionRow:
    """One of a person's sessions, as the sessions page lists it."""

    id: int
    method: str
    user_agent: str
    started_at: datetime
    expires_at: datetime
    current: bool


def set_cookie(response: Response, settings: InboxSettings, name: str, value: str, *,
               max_age: int, same_site: str = "strict") -> None:
    response.set_cookie(name, value, max_age=max_age, path=PATH, httponly=True,
                        secure=settings.cookie_secure, samesite=same_site)  # type: ignore[arg-type]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def current_session(request: Request) -> InboxSession | None:
    """The session the cookie names, while the server holds it open: signed and unexpired,
    not ended, and its login credential still unrevoked."""
    settings = login_settings(request)
    data = unsign(settings, "inbox-session", request.cookies.get(SESSION_COOKIE),
                  settings.session_minutes * 60)
    if data is None or not isinstance(data.get("t"), str):
        return None
    with session_scope() as session:
        row = session.exec(
            select(InboxLogin, Person)
            .join(Person, col(Person.id) == col(InboxLogin.person_id))
            .join(Credential, col(Credential.id) == col(InboxLogin.credential_id))
            .where(InboxLogin.token_sha256 == _digest(data["t"]),
                   col(InboxLogin.ended_at).is_(None), InboxLogin.expires_at > utcnow(),
                   col(Credential.revoked_at).is_(None))
        ).first()
    if row is None:
        return None
    login, person = row
    return InboxSession(handle=person.handle, method=login.method, csrf=str(data["c"]),
                        login_id=login.id or 0, name=person.name)


def _login_credential(session: Session, *, handle: str, method: str) -> Credential | None:
    kind = CredentialKind.OIDC if method == "oidc" else CredentialKind.PASSWORD
    return session.exec(
        select(Credential).join(Person, col(Person.id) == col(Credential.person_id))
        .where(Person.handle == handle, Credential.kind == kind,
               col(Credential.revoked_at).is_(None)).order_by(col(Credential.id).desc())
    ).first()


def start_session(response: Response, request: Request, *, handle: str, method: str,
                  credential_id: int | None = None) -> None:
    """Open a session on the server for the credential the person logged in with (the
    newest active one of the method when not named) and set its cookie."""
    settings = login_settings(request)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with session_scope() as session:
        credential = (session.get(Credential, credential_id) if credential_id is not None
                      else _login_credential(session, handle=handle, method=method))
        if credential is None or credential.id is None:
            raise ValueError(f"'{handle}' holds no active {method} credential")
        session.add(InboxLogin(
            token_sha256=_digest(token), person_id=credential.person_id,
            credential_id=credential.id, method=method, started_at=now,
            user_agent=request.headers.get("user-agent", "")[:200],
            expires_at=now + timedelta(minutes=settings.session_minutes)))
    value = sign(settings, "inbox-session", {"t": token, "c": secrets.token_urlsafe(24)})
    set_cookie(response, settings, SESSION_COOKIE, value,
               max_age=settings.session_minutes * 60)


def end_login(*, login_id: int, handle: str, why: str) -> bool:
    """End one of the person's sessions on the server; False if it is not theirs or
    already ended (the sessions page then says so)."""
    with session_scope() as session:
        login = session.exec(
            select(InboxLogin).join(Person, col(Person.id) == col(InboxLogin.person_id))
            .where(InboxLogin.id == login_id, Person.handle == handle,
                   col(InboxLogin.ended_at).is_(None))
        ).first()
        if login is None:
            return False
        login.ended_at, login.ended_why = utcnow(), why
        session.add(login)
    return True


def open_sessions(me: InboxSession) -> list[SessionRow]:
    """The person's sessions that still open the inbox, newest first."""
    with session_scope() as session:
        rows = session.exec(
            select(InboxLogin).join(Person, col(Person.id) == col(InboxLogin.person_id))
            .join(Credential, col(Credential.id) == col(InboxLogin.credential_id))
            .where(Person.handle == me.handle, col(InboxLogin.ended_at).is_(None),
                   InboxLogin.expires_at > utcnow(), col(Credential.revoked_at).is_(None))
            .order_by(col(InboxLogin.started_at).desc(), col(InboxLogin.id).desc())
        ).all()
    return [SessionRow(id=r.id or 0, method=r.method, user_agent=r.user_agent,
                       started_at=r.started_at, expires_at=r.expires_at,
                       current=r.id == me.login_id) for r in rows]


def end_session(response: Response, request: Request) -> None:
    """Log out: end the session on the server, then drop the cookie."""
    current = current_session(request)
    if current is not None:
        end_login(login_id=current.login_id, handle=current.handle, why="logout")
    settings = login_settings(request)
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
    public = login_settings(request).public_url
    return origin in {own, (public or own).rstrip("/")}


def csrf_ok(expected: str | None, presented: object) -> bool:
    return (isinstance(presented, str) and expected is not None
            and hmac.compare_digest(expected.encode(), presented.encode()))
