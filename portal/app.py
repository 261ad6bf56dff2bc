"""The public portal: FastAPI app with HTML pages, an Atom feed and a JSON API.

Run it with `dueprocess portal`. Pages are Jinja2 templates with autoescaping on; every
response carries a Content-Security-Policy without scripts, so even a missed escape could
not run code. A request naming a Host the portal does not serve gets 400 (DNS rebinding).
Writes meet the guards of `dueprocess.web.guards` first (cross-site refusal, body limit).
"""

from __future__ import annotations

from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.middleware.trustedhost import TrustedHostMiddleware

from dueprocess.settings import PortalSettings, get_portal_settings
from dueprocess.web.errors import Problem
from dueprocess.web.guards import CSP, BodyLimit, CrossSiteGuard, SecurityHeaders
from dueprocess.web.ratelimit import RateLimiter
from portal import api, inbox, pages, transparency

__all__ = ["CSP", "BodyLimit", "create_portal_app", "server_config"]


def create_portal_app(settings: PortalSettings | None = None) -> FastAPI:
    """The portal's own pages and API; `dueprocess.composition.portal` adds the pages of the
    other capabilities it hosts."""
    settings = settings or get_portal_settings()
    app = FastAPI(
        title="dueprocess public portal API",
        description="Decision cases, their notices, evidence digests and public comments.",
        version="1",
    )
    app.state.settings = settings
    app.state.limiter = RateLimiter(count=settings.comment_rate_count,
                                    seconds=settings.comment_rate_seconds)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        return JSONResponse({"detail": problems}, status_code=422)

    # The last added runs first: headers on every answer, then the Host check (DNS
    # rebinding), then the cross-site check (no body read for a refused write), then the
    # body limit.
    app.add_middleware(BodyLimit, max_bytes=settings.portal_max_body_bytes)
    app.add_middleware(CrossSiteGuard)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(SecurityHeaders)
    app.include_router(api.router, responses={403: {
        "model": Problem, "description": "A cross-site write, or a write not sent as JSON"}})
    app.include_router(pages.router)
    app.include_router(transparency.router)
    app.include_router(inbox.router)  # reviewer inbox and evidence API (portal/inbox)
    return app


def server_config(app: Any, *, host: str, port: int, **options: Any) -> Any:
    """The uvicorn configuration the portal is served with.

    uvicorn's own proxy-header handling is off: by default it believes X-Forwarded-For from
    any loopback peer, so a client on the same host (or behind any local proxy) could name
    a fresh address per request. The portal decides itself, from
    DUEPROCESS_PORTAL_TRUSTED_PROXIES (see `dueprocess.web.context.client_key`).
    """
    return uvicorn.Config(app, host=host, port=port, proxy_headers=False,
                          **{"log_level": "warning", **options})
