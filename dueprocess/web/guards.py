"""What every request to the portal meets before a router sees it (pure ASGI middleware).

- `SecurityHeaders`: a Content-Security-Policy without scripts and friends on every answer,
  refusals included; a page that ships the portal's own script (the inbox's signing)
  opts in with `allow_own_scripts`, which permits scripts and fetches from this origin only
  (never inline).
- `CrossSiteGuard`: a write (POST: the only method a cross-site form can send, and the
  only one the portal takes) must come from the portal's own pages:
  `Sec-Fetch-Site: cross-site` (or `same-site`) is refused, and so is an `Origin` (or,
  without one, a `Referer`) that is not the portal's own origin. A client that sends
  neither (curl, a script) is no browser, so no one else's browser can be made to send it.
  The JSON API takes writes only as application/json, which no cross-site form can send.
- `BodyLimit`: bodies over the limit are refused with 413 before they are read into
  memory, whether declared by Content-Length or sent chunked.

Each refusal is logged as a warning (client address, method, path and rule; never a body).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dueprocess.settings import get_notify_settings
from dueprocess.web.context import client_key
from dueprocess.web.rendering import page

log = logging.getLogger("dueprocess.web.guards")

CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")
OWN_SCRIPTS = b"x-dueprocess-own-scripts"  # set by a page, consumed here, never sent
OWN_SCRIPTS_CSP = CSP + "; script-src 'self'; connect-src 'self'"
WRITES = frozenset({"POST"})  # other methods need a CORS preflight, which the portal denies
ACCEPTED_FETCH_SITES = frozenset({"same-origin", "none"})  # "none": typed or bookmarked
DEFAULT_PORTS = {"http": 80, "https": 443}


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = str(scope.get("path", "")).startswith(("/docs", "/redoc"))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                given = message.get("headers", [])
                scripts = any(k.lower() == OWN_SCRIPTS for k, _ in given)
                headers = [(k, v) for k, v in given
                           if k.lower() not in (b"content-security-policy", OWN_SCRIPTS,
                                                b"x-content-type-options", b"referrer-policy")]
                if not docs:  # the API docs page loads Swagger UI's scripts
                    policy = OWN_SCRIPTS_CSP if scripts else CSP
                    headers.append((b"content-security-policy", policy.encode()))
                # `same-origin`: other sites learn nothing of the page a link was on, and
                # the portal's own forms keep their Origin (with `no-referrer` a browser
                # sends `Origin: null`, which the cross-site check must refuse).
                headers += [(b"x-content-type-options", b"nosniff"),
                            (b"referrer-policy", b"same-origin")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def allow_own_scripts(response: Response) -> Response:
    """Let `response` (a page) run the portal's own script files; inline ones stay refused."""
    response.headers[OWN_SCRIPTS.decode()] = "1"
    return response


def origin_of(url: str) -> str | None:
    """'scheme://host[:port]' of a URL, lower-cased, default port left out; None if it has
    no scheme and host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    if port is None or port == DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def own_origins(request: Request) -> set[str]:
    """The portal's own origins: its public address (DUEPROCESS_PORTAL_URL) and the
    address this request was sent to."""
    origins = {origin_of(get_notify_settings().portal_url)}
    host = request.headers.get("host")
    if host:
        origins.add(origin_of(f"{request.url.scheme}://{host}"))
    return {o for o in origins if o}


def cross_site_reason(request: Request) -> str | None:
    """Why a write is refused as cross-site, or None."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site.strip().lower() not in ACCEPTED_FETCH_SITES:
        return (f"Sec-Fetch-Site: '{site[:40]}' refused: the portal accepts writes only from "
                "its own pages (same-origin)")
    origin = request.headers.get("origin")
    if origin == "null" and site is not None and site.strip().lower() == "same-origin":
        # A browser that keeps the referrer to itself may send `Origin: null` even from
        # the portal's own page; Sec-Fetch-Site (which no page can set) says it is one.
        origin = None
    if origin is not None:
        if origin_of(origin) not in own_origins(request):
            return (f"Origin: '{origin[:100]}' is not this portal "
                    f"({', '.join(sorted(own_origins(request)))}); forms are accepted only "
                    "from the portal's own pages")
    else:
        referer = request.headers.get("referer")
        if referer is not None and origin_of(referer) not in own_origins(request):
            return (f"Referer: a page of '{origin_of(referer) or 'an unknown origin'}' is not "
                    "this portal; forms are accepted only from the portal's own pages")
    if request.url.path.startswith("/api/"):
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json":
            return (f"content-type: '{media[:60] or 'none'}' refused: the JSON API accepts "
                    "writes only as application/json")
    return None


INBOX_PREFIX = "/inbox/"


class CrossSiteGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES or not _routed(scope):
            await self.app(scope, receive, send)  # the router answers 404 or 405
            return
        if scope["path"].startswith(INBOX_PREFIX):
            # The reviewer inbox checks its session's CSRF token, Origin and Sec-Fetch-Site
            # itself and audits each refusal against the person (portal.inbox.sessions).
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        reason = cross_site_reason(request)
        if reason is None:
            await self.app(scope, receive, send)
            return
        log.warning("refused %s %s from %s: %s", scope["method"], request.url.path,
                    client_key(request), reason)
        await refusal(request, 403, reason)(scope, receive, send)


def _routed(scope: Scope) -> bool:
    """Whether a route of the app takes this method on this path."""
    app = scope.get("app")
    routes = getattr(app, "routes", ())
    return any(route.matches(scope)[0] == Match.FULL for route in routes)


def refusal(request: Request, status: int, detail: str) -> Response:
    """A refusal as the caller reads it: JSON for the API, a page for a browser."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": detail}, status_code=status)
    return page(request, "message.html",
                {"heading": detail, "message": detail, "error": True, "back": "/", "form": None},
                status)


class BodyLimit:
    """Refuse request bodies over the limit before reading them into memory."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            # The server hands over exactly the declared length, never more.
            if not declared.isdigit() or int(declared) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        # No length declared (chunked): read up to the limit here, then replay it.
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        detail = (f"body: request body over the limit of {self.max_bytes} bytes "
                  "(DUEPROCESS_PORTAL_MAX_BODY_BYTES)")
        log.warning("refused %s %s from %s: %s", scope["method"], request.url.path,
                    client_key(request), detail)
        await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)
