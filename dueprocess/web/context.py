"""What the page-serving routers share: the page templates, in each language, and the
request's app state.

Template folders are registered, never looked up: the kit's own folder
(`dueprocess/web/templates`: `base.html`, `message.html`) is always searched first, then
each folder given to `register_templates`, in the order registered. The composition root
(`dueprocess.composition.portal`) registers every capability's folder before the app
serves:

    register_templates(Path(portal.__file__).parent / "templates")
    register_templates(Path(programme.__file__).parent / "templates")

Registering a folder again changes nothing; a folder registered after the first render is
searched from the next lookup on (the loader reads the registry each time), so the kit
imports no capability to find their pages.

Templates are rendered by an environment per language with Jinja2's i18n extension and
that language's catalogue installed (`dueprocess.i18n`, newstyle gettext: `_("…")`,
`pgettext("context", "…")`, `%(name)s` placeholders, autoescape on).
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from jinja2 import BaseLoader, Environment, FileSystemLoader, select_autoescape
from starlette.templating import Jinja2Templates

from dueprocess.i18n import Language, translations

TEMPLATES = Path(__file__).resolve().parent / "templates"
_folders: list[Path] = [TEMPLATES]
_registering = threading.Lock()


def register_templates(folder: Path) -> None:
    """Search `folder` for page templates after the kit's own and those registered before
    it (idempotent: a folder registered again keeps its place)."""
    resolved = Path(folder).resolve()
    if not resolved.is_dir():
        raise ValueError(f"templates: '{folder}' is not a folder")
    with _registering:
        if resolved not in _folders:
            _folders.append(resolved)


def template_folders() -> tuple[Path, ...]:
    """The folders searched for a page template, in order: the kit's own first."""
    with _registering:
        return tuple(_folders)


class RegisteredFolders(BaseLoader):
    """Loads a template from the registered folders as they are at the time of the lookup."""

    def get_source(self, environment: Environment,
                   template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        return FileSystemLoader(template_folders()).get_source(environment, template)

    def list_templates(self) -> list[str]:
        return FileSystemLoader(template_folders()).list_templates()


def templates(language: Language) -> Jinja2Templates:
    """The page templates, with `language`'s catalogue installed for `_()` and `{% trans %}`."""
    env = Environment(loader=RegisteredFolders(), extensions=["jinja2.ext.i18n"],
                      autoescape=select_autoescape(default=True, default_for_string=True))
    env.policies["ext.i18n.trimmed"] = True  # as babel.cfg extracts {% trans %} blocks
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(lang=language)
    return Jinja2Templates(env=env)


@cache
def page_templates(language: Language) -> Jinja2Templates:
    """The templates of `language`, built on first use and kept."""
    return templates(language)


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
