"""The public portal: FastAPI app with HTML pages, an Atom feed and a JSON API.

Run it with `dueprocess portal`. Pages are Jinja2 templates with autoescaping on; every
response carries a Content-Security-Policy without scripts, so even a missed escape could
not run code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal import api, inbox, pages
from portal.ratelimit import RateLimiter
from portal.settings import PortalSettings, get_portal_settings

CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")


class BodyLimit:
    """Refuse request bodies over the limit before reading them into memory."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _too_large(self.max_bytes)(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except BodyTooLarge:
            await _too_large(self.max_bytes)(scope, receive, send)


class BodyTooLarge(Exception):
    pass


def _too_large(max_bytes: int) -> Response:
    return JSONResponse(
        {"detail": f"body: request body over the limit of {max_bytes} bytes "
                   "(DUEPROCESS_PORTAL_MAX_BODY_BYTES)"}, status_code=413)


def create_app(settings: PortalSettings | None = None) -> FastAPI:
    settings = settings or get_portal_settings()
    app = FastAPI(
        title="dueprocess public portal API",
        description="Decision cases, their notices, evidence digests and public comments.",
        version="1",
    )
    app.state.settings = settings
    app.state.limiter = RateLimiter(count=settings.comment_rate_count,
                                    seconds=settings.comment_rate_seconds)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if not request.url.path.startswith(("/docs", "/redoc")):
            response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        return JSONResponse({"detail": problems}, status_code=422)

    app.add_middleware(BodyLimit, max_bytes=settings.portal_max_body_bytes)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(inbox.router)  # reviewer inbox and evidence API (portal/inbox)
    return app
