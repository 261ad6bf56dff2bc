"""What the portal's routers share: the page templates and the request's app state.

Kept apart from `portal.app`, which includes the routers, so that no router imports the
module that imports it.
"""

from __future__ import annotations

import ipaddress
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.templating import Jinja2Templates

from notifications.settings import get_notify_settings
from dueprocess.web.i18n import WORDS

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Pages of features the portal serves (their routers are included by portal.app).
FEATURE_TEMPLATES = (Path(__file__).resolve().parents[1] / "programme" / "templates",)


def templates() -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader([TEMPLATES, *FEATURE_TEMPLATES]),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    language = get_notify_settings().notify_language
    env.globals.update(t=WORDS[language], lang=language)
    return Jinja2Templates(env=env)


@cache
def page_templates() -> Jinja2Templates:
    """Built on first use, so that creating the app reads no notification setting."""
    return templates()


def client_key(request: Request) -> str:
    """The client's address, for rate limits and comment receipts.

    The direct peer, unless the peer is one of DUEPROCESS_PORTAL_TRUSTED_PROXIES: then the
    last X-Forwarded-For hop that is not a trusted proxy (the hops before it are whatever the
    client chose to send). Without trusted proxies the header is ignored, so a client cannot
    pick a fresh address per request.
    """
    peer = request.client.host if request.client else "unknown"
    proxies = getattr(state(request).settings, "trusted_proxy_networks", ())
    return forwarded_client(peer, request.headers.getlist("x-forwarded-for"), proxies)


def forwarded_client(peer: str, forwarded_for: list[str], proxies: tuple[Any, ...]) -> str:
    if not _within(peer, proxies):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _within(hop, proxies):
            return _address(hop) or hop[:64]
    return peer


def _address(text: str) -> str | None:
    """The IP address in an X-Forwarded-For hop ('1.2.3.4', '1.2.3.4:80', '[::1]:80')."""
    candidates = [text]
    if text.startswith("["):
        candidates.append(text[1:].partition("]")[0])
    elif text.count(":") == 1:
        candidates.append(text.partition(":")[0])
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def _within(host: str, networks: tuple[Any, ...]) -> bool:
    address = _address(host)
    if address is None or not networks:
        return False
    parsed = ipaddress.ip_address(address)
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return any(parsed.version == net.version and parsed in net for net in networks)


def state(request: Request) -> Any:
    return request.app.state
