"""Which language a page is in: `?lang=` chooses and is remembered in a cookie; otherwise
the cookie; otherwise the notices' language (DUEPROCESS_NOTIFY_LANGUAGE, zh-CN by default).

The browser's Accept-Language is deliberately not used: the public record reads the same
for everyone unless they ask for the other language.
"""

from __future__ import annotations

from typing import Annotated, cast
from urllib.parse import urlencode

from fastapi import Query, Request, Response

from dueprocess.i18n import LANGUAGES, Language
from dueprocess.settings import get_notify_settings

COOKIE = "dueprocess_lang"
COOKIE_SECONDS = 365 * 24 * 3600


def language_query(
    lang: Annotated[Language | None, Query(
        description="Page language: zh-CN or en; remembered in a cookie")] = None,
) -> Language | None:
    """Router dependency: a `?lang=` outside zh-CN and en is refused with 422, naming it."""
    return lang


def default_language() -> Language:
    return get_notify_settings().notify_language


def chosen_language(request: Request) -> Language:
    for candidate in (request.query_params.get("lang"), request.cookies.get(COOKIE)):
        if candidate in LANGUAGES:
            return cast(Language, candidate)
    return default_language()


def remember_language(request: Request, response: Response) -> None:
    """Set the cookie when this request chose a language with `?lang=`."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES and request.cookies.get(COOKIE) != asked:
        response.set_cookie(COOKIE, asked, max_age=COOKIE_SECONDS, path="/", httponly=True,
                            samesite="lax", secure=request.url.scheme == "https")
    # The same address reads in two languages: caches must keep them apart.
    response.headers.add_vary_header("Cookie")


def switch_href(request: Request, language: Language) -> str:
    """This page's address in another language (its other query parameters kept)."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    query.append(("lang", language))
    return f"{request.url.path}?{urlencode(query)}"
