"""Logging in to the reviewer inbox: OpenID Connect (authlib, with PKCE and a nonce) or a
local password (argon2id), then a signed, expiring session cookie.

An OIDC subject logs in only when an administrator linked it to a person
(`dueprocess credentials link-oidc`); the ID token's signature, issuer, audience, expiry
and nonce are checked. Failed password logins count against the client's rate limit.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

import requests
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import select

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError
from dueprocess.services.identity import (
    MIN_PASSWORD_LENGTH,
    oidc_fingerprint,
    person_for_oidc,
    set_password,
    verify_password,
)
from dueprocess.settings import InboxSettings
from dueprocess.web.context import client_key, page_templates, state
from dueprocess.web.i18n import words
from dueprocess.web.language import chosen_language
from dueprocess.web.oidc import LOGIN_REFUSED, authorization_request, verified_claims
from dueprocess.web.rendering import page_context
from dueprocess.web.signed import login_settings, sign, unsign
from models.people import Credential, CredentialKind
from portal.inbox.sessions import (
    OIDC_COOKIE,
    OIDC_MINUTES,
    PRE_LOGIN_COOKIE,
    InboxSession,
    csrf_ok,
    current_session,
    end_login,
    end_session,
    open_sessions,
    same_origin,
    set_cookie,
    start_session,
)

router = APIRouter(prefix="/inbox", include_in_schema=False)


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    response: HTMLResponse = page_templates(chosen_language(request)).TemplateResponse(
        request, f"inbox/{template}", {**page_context(request), **context},
        status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def login_page(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    settings = login_settings(request)
    login_csrf = secrets.token_urlsafe(24)
    response = page(request, "login.html", status, error=error, login_csrf=login_csrf,
                    oidc=bool(settings.oidc_issuer))
    set_cookie(response, settings, PRE_LOGIN_COOKIE,
               sign(settings, "inbox-login", {"c": login_csrf}), max_age=OIDC_MINUTES * 60)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return login_page(request)


@router.post("/login", response_class=HTMLResponse)
def password_login(
    request: Request, handle: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1000)], csrf: Annotated[str, Form()] = "",
) -> Response:
    settings = login_settings(request)
    pre = unsign(settings, "inbox-login", request.cookies.get(PRE_LOGIN_COOKIE), OIDC_MINUTES * 60)
    if not same_origin(request) or not csrf_ok(pre.get("c") if pre else None, csrf):
        return login_page(request, error="The login form expired or came from another site "
                          "(CSRF): please log in again.", status=403)
    wait = state(request).limiter.retry_after(f"inbox-login:{client_key(request)}")
    if wait is not None:
        return login_page(request, error=f"Too many attempts; try again in {wait:.0f} s.",
                          status=429)
    with session_scope() as session:
        person = verify_password(session, handle=handle.strip(), password=password)
        found = person.handle if person is not None else None
    if found is None:
        return login_page(request, error="Unknown handle or wrong password.", status=401)
    return _logged_in(request, handle=found, method="password")


def _logged_in(request: Request, *, handle: str, method: str,
               credential_id: int | None = None) -> Response:
    """Start the session. A page (not a redirect) continues to the inbox, so the Strict
    session cookie is sent even when the login began on the identity provider's site."""
    response = page(request, "continue.html", handle=handle)
    start_session(response, request, handle=handle, method=method,
                  credential_id=credential_id)
    response.delete_cookie(PRE_LOGIN_COOKIE, path="/inbox")
    response.delete_cookie(OIDC_COOKIE, path="/inbox")
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    current = current_session(request)
    if current is not None and (not same_origin(request) or not csrf_ok(current.csrf, csrf)):
        return page(request, "message.html", 403, error=True,
                    message="Logout refused: the form came from another site (CSRF).")
    response = RedirectResponse("/inbox/login", status_code=303)
    end_session(response, request)
    return response


# --- A person's sessions and password ---------------------------------------------------

def sessions_page(request: Request, me: InboxSession, *, message: str | None = None,
                  error: str | None = None, status: int = 200) -> Response:
    return page(request, "sessions.html", status, me=me, sessions=open_sessions(me),
                message=message, error=error)


def _checked(request: Request, csrf: str) -> tuple[InboxSession | None, Response | None]:
    """The session of a POST from this portal's own page, or the answer refusing it."""
    me = current_session(request)
    if me is None:
        return None, RedirectResponse("/inbox/login", status_code=303)
    if not same_origin(request) or not csrf_ok(me.csrf, csrf):
        _ = words(request)
        return None, page(request, "message.html", 403, error=True, message=_(
            "Refused: the form did not come from this portal's page (CSRF)."))
    return me, None


@router.get("/sessions", response_class=HTMLResponse)
def sessions(request: Request) -> Response:
    me = current_session(request)
    if me is None:
        return RedirectResponse("/inbox/login", status_code=303)
    return sessions_page(request, me)


@router.post("/sessions/{login_id}/end", response_class=HTMLResponse)
def end_one_session(request: Request, login_id: int,
                    csrf: Annotated[str, Form()] = "") -> Response:
    me, refusal = _checked(request, csrf)
    if me is None:
        assert refusal is not None
        return refusal
    _ = words(request)
    if not end_login(login_id=login_id, handle=me.handle, why="ended by its person"):
        return sessions_page(request, me, status=404, error=_(
            "Session: #{id} is not one of your open sessions.").format(id=login_id))
    if login_id == me.login_id:
        response = RedirectResponse("/inbox/login", status_code=303)
        end_session(response, request)
        return response
    return sessions_page(request, me, message=_("Session #{id} ended.").format(id=login_id))


@router.post("/password", response_class=HTMLResponse)
def change_password(
    request: Request, current: Annotated[str, Form(max_length=1000)] = "",
    new: Annotated[str, Form(max_length=1000)] = "", csrf: Annotated[str, Form()] = "",
) -> Response:
    """A new password revokes the old one, which ends every session logged in with it;
    the person carries on in a new session of the new password."""
    me, refusal = _checked(request, csrf)
    if me is None:
        assert refusal is not None
        return refusal
    _ = words(request)
    wait = state(request).limiter.retry_after(f"inbox-login:{client_key(request)}")
    if wait is not None:
        return sessions_page(request, me, status=429, error=_(
            "Current password: too many attempts; try again in {seconds} s.").format(
                seconds=f"{wait:.0f}"))
    with session_scope() as session:
        checked = verify_password(session, handle=me.handle, password=current)
    if checked is None:
        return sessions_page(request, me, status=422,
                             error=_("Current password: not your current password."))
    try:
        with session_scope() as session:
            credential_id = set_password(session, handle=me.handle, password=new).id
    except DueProcessError:
        return sessions_page(request, me, status=422, error=_(
            "New password: at least {count} characters (ASVS 2.1.1).").format(
                count=MIN_PASSWORD_LENGTH))
    response = page(request, "message.html", message=_(
        "Password changed: every session of the old password has ended."))
    start_session(response, request, handle=me.handle, method="password",
                  credential_id=credential_id)
    return response


# --- OpenID Connect ---------------------------------------------------------------------

def _callback_url(request: Request, settings: InboxSettings) -> str:
    if settings.public_url:
        return settings.public_url.rstrip("/") + "/inbox/oidc/callback"
    return str(request.url_for("inbox_oidc_callback"))


@router.get("/login/oidc")
def oidc_start(request: Request) -> Response:
    settings = login_settings(request)
    if not settings.oidc_issuer:
        return login_page(request, error="No OpenID Connect provider is configured.",
                          status=404)
    try:
        url, pending = authorization_request(settings,
                                             redirect_uri=_callback_url(request, settings))
    except (requests.RequestException, ValueError) as exc:
        return login_page(request, error=f"The identity provider is unavailable ({exc}).",
                          status=502)
    response = RedirectResponse(url, status_code=303)
    # Lax: the provider sends the browser back with a top-level GET from its own site.
    set_cookie(response, settings, OIDC_COOKIE,
               sign(settings, "inbox-oidc", pending),
               max_age=OIDC_MINUTES * 60, same_site="lax")
    return response


@router.get("/oidc/callback", name="inbox_oidc_callback")
def oidc_callback(request: Request, code: str = "", state: str = "",
                  error: str = "") -> Response:
    settings = login_settings(request)
    pending = unsign(settings, "inbox-oidc", request.cookies.get(OIDC_COOKIE), OIDC_MINUTES * 60)
    if error or not code or pending is None or not csrf_ok(pending.get("s"), state):
        return login_page(request, error="The login with the identity provider failed or "
                          "expired (state mismatch); please try again.", status=400)
    issuer = settings.oidc_issuer or ""
    try:
        claims = verified_claims(settings, redirect_uri=_callback_url(request, settings),
                                 code=code, pending=pending)
    except LOGIN_REFUSED as exc:
        return login_page(request, error=f"The identity provider's answer was refused "
                          f"({type(exc).__name__}).", status=401)
    with session_scope() as session:
        person = person_for_oidc(session, issuer=issuer, subject=str(claims["sub"]))
        handle = person.handle if person is not None else None
        credential_id = session.exec(select(Credential.id).where(
            Credential.kind == CredentialKind.OIDC, Credential.person_id == (
                person.id if person is not None else None),
            Credential.fingerprint == oidc_fingerprint(issuer, str(claims["sub"])),
            Credential.revoked_at == None)).first()  # noqa: E711
    if handle is None:
        return login_page(request, error=f"The identity '{claims['sub']}' is not linked to "
                          "a registered person; ask an administrator "
                          "(dueprocess credentials link-oidc).", status=403)
    return _logged_in(request, handle=handle, method="oidc", credential_id=credential_id)
