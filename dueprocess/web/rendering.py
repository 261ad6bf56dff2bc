"""Render a portal page in the request's language: the one renderer of pages and refusals."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from models.base import utcnow
from dueprocess.web.context import page_templates
from dueprocess.web.i18n import LANGUAGES
from dueprocess.web.language import chosen_language, remember_language, switch_href
from dueprocess.web.localize import Localizer
from dueprocess.web.presentation_settings import get_presentation_settings


def localizer(request: Request) -> Localizer:
    return Localizer(chosen_language(request), get_presentation_settings().timezone)


def page_context(request: Request) -> dict[str, Any]:
    """What every page's layout needs: the words and formats of the request's language."""
    fmt = localizer(request)
    switch = [(other, fmt.language_name(other), switch_href(request, other))
              for other in LANGUAGES if other != fmt.language]
    return {"t": fmt.words, "lang": fmt.language, "fmt": fmt, "switch": switch,
            "now": utcnow()}


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """Render a page in the request's language; `fmt` formats dates, numbers and values."""
    layout = page_context(request)
    fmt = layout["fmt"]
    response: Response = page_templates().TemplateResponse(request, name, {
        **layout, **context,
    }, status_code=status)
    remember_language(request, response)
    response.headers["Content-Language"] = fmt.language
    return response
