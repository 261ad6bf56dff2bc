"""Residents log in with OpenID Connect to vote as verified residents.

The identity platform is the one the reviewer inbox uses (DUEPROCESS_INBOX_OIDC_*: in
production the city's unified identity platform, locally oidc-provider-mock): authorization
code with PKCE and a nonce, the ID token's signature, issuer, audience, expiry and nonce
checked. A resident in the register in force (`programme.residents`) gets a signed,
expiring cookie naming issuer and subject, and votes with it; nobody else gets one.
"""

from __future__ import annotations

from typing import Annotated

import requests
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import RedirectResponse

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError
from dueprocess.settings import InboxSettings
from dueprocess.web.forms import form_answer, message
from dueprocess.web.i18n import words
from dueprocess.web.language import language_query
from dueprocess.web.oidc import LOGIN_REFUSED, authorization_request, verified_claims
from dueprocess.web.signed import login_settings, sign, unsign
from programme.receipts import receipt_id
from programme.residents import cast_resident_vote, resident

router = APIRouter(prefix="/programme", include_in_schema=False,
                   dependencies=[Depends(language_query)])
LOGIN_COOKIE, RESIDENT_COOKIE = "dp_resident_oidc", "dp_resident"
LOGIN_SECONDS, RESIDENT_SECONDS = 600, 1800


def _set_cookie(response: Response, request: Request, name: str, value: str,
                max_age: int) -> None:
    # Lax: the provider sends the browser back with a top-level GET from its own site.
    response.set_cookie(name, value, max_age=max_age, path="/programme", httponly=True,
                        samesite="lax", secure=request.url.scheme == "https")


def _callback_url(request: Request, settings: InboxSettings) -> str:
    if settings.public_url:
        return settings.public_url.rstrip("/") + "/programme/residents/callback"
    return str(request.url_for("resident_oidc_callback"))


@router.get("/residents/login")
def login(request: Request, ballot: Annotated[int, Query(ge=1)]) -> Response:
    _ = words(request)
    settings = login_settings(request)
    if not settings.oidc_issuer:
        return message(request, _("No identity platform is configured for residents."),
                       status=404, error=True)
    try:
        url, pending = authorization_request(settings, redirect_uri=_callback_url(request,
                                                                                  settings))
    except (requests.RequestException, ValueError):
        return message(request, _("The identity platform is unavailable; try again later."),
                       status=502, error=True, back=f"/programme/ballots/{ballot}")
    response = RedirectResponse(url, status_code=303)
    _set_cookie(response, request, LOGIN_COOKIE,
                sign(settings, "resident-login", {**pending, "b": ballot}), LOGIN_SECONDS)
    return response


@router.get("/residents/callback", name="resident_oidc_callback")
def callback(request: Request, code: str = "", state: str = "", error: str = "") -> Response:
    _ = words(request)
    settings = login_settings(request)
    pending = unsign(settings, "resident-login", request.cookies.get(LOGIN_COOKIE), LOGIN_SECONDS)
    if error or not code or pending is None or pending.get("s") != state:
        return message(request, _("The login failed or expired; please log in again."),
                       status=400, error=True)
    issuer = (settings.oidc_issuer or "").rstrip("/")
    try:
        claims = verified_claims(settings, redirect_uri=_callback_url(request, settings),
                                 code=code, pending=pending)
    except LOGIN_REFUSED:
        return message(request, _("The identity platform's answer was refused; please log "
                                  "in again."), status=401, error=True)
    subject = str(claims["sub"])
    ballot = int(pending["b"])
    with session_scope() as session:
        listed = resident(session, issuer=issuer, subject=subject) is not None
    if not listed:
        return message(request, _("You are not in the resident register, so you cannot vote "
                                  "as a verified resident."), status=403, error=True,
                       back=f"/programme/ballots/{ballot}")
    response = RedirectResponse(f"/programme/ballots/{ballot}", status_code=303)
    _set_cookie(response, request, RESIDENT_COOKIE,
                sign(settings, "resident", {"iss": issuer, "sub": subject}), RESIDENT_SECONDS)
    response.delete_cookie(LOGIN_COOKIE, path="/programme")
    return response


def logged_in(request: Request) -> tuple[str, str] | None:
    """(issuer, subject) of the resident logged in on this browser, if any."""
    data = unsign(login_settings(request), "resident", request.cookies.get(RESIDENT_COOKIE),
                   RESIDENT_SECONDS)
    if data is None or not isinstance(data.get("iss"), str) or not isinstance(
            data.get("sub"), str):
        return None
    return data["iss"], data["sub"]


@router.post("/ballots/{ballot_id}/resident-votes")
async def resident_vote(request: Request, ballot_id: Annotated[int, Path(ge=1)]) -> Response:
    _ = words(request)
    who = logged_in(request)

    def vote(pairs: list[tuple[str, str]]) -> str:
        if who is None:
            raise DueProcessError(_("Log in as a resident first; the login lasts 30 minutes."))
        choices = [value for name, value in pairs if name == "choice"]
        if not all(value.isdigit() for value in choices):
            raise DueProcessError("choice: each choice is an option's number")
        cast = cast_resident_vote(ballot_id=ballot_id, issuer=who[0], subject=who[1],
                                  choices=[int(value) for value in choices])
        assert cast.id is not None
        return _("Your vote is counted as a verified resident's. Your receipt id: {receipt}; "
                 "within a minute its receipt is at /programme/receipts/{receipt}").format(
            receipt=receipt_id(ballot_id=ballot_id, vote_id=cast.id))

    return await form_answer(request, back=f"/programme/ballots/{ballot_id}", act=vote,
                             status=201)
