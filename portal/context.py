"""What the portal's routers share: the page templates and the request's app state.

Kept apart from `portal.app`, which includes the routers, so that no router imports the
module that imports it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.templating import Jinja2Templates

from notifications.settings import get_notify_settings
from portal.i18n import WORDS

TEMPLATES = Path(__file__).resolve().parent / "templates"


def templates() -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader(TEMPLATES),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    language = get_notify_settings().notify_language
    env.globals.update(t=WORDS[language], lang=language)
    return Jinja2Templates(env=env)


@cache
def page_templates() -> Jinja2Templates:
    """Built on first use, so that creating the app reads no notification setting."""
    return templates()


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def state(request: Request) -> Any:
    return request.app.state
