"""Render a portal page in the request's language: the one renderer of pages and refusals."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from dueprocess.i18n import LANGUAGES
from dueprocess.settings import get_presentation_settings
from dueprocess.web.context import page_templates
from dueprocess.web.language import chosen_language, remember_language, switch_href
from dueprocess.web.localize import Localizer
from models.base import utcnow


def localizer(request: Request) -> Localizer:
    return Localizer(chosen_language(request), get_presentation_settings().timezone)


def page_context(request: Request) -> dict[str, Any]:
    """What every page's layout needs: the language and its formats (the words come from
    the language's catalogue, installed in `page_templates(language)`)."""
    fmt = localizer(request)
    switch = [(other, fmt.language_name(other), switch_href(request, other))
              for other in LANGUAGES if other != fmt.language]
    return {"lang": fmt.language, "fmt": fmt, "switch": switch, "now": utcnow()}


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """Render a page in the request's language; `fmt` formats dates, numbers and values."""
    layout = page_context(request)
    fmt = layout["fmt"]
    response: Response = page_templates(fmt.language).TemplateResponse(request, name, {
        **layout, **context,
    }, status_code=status)
    remember_language(request, response)
    response.headers["Content-Language"] = fmt.language
    return response
