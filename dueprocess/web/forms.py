"""What every page that takes a public form shares: the message page (an answer or a
refusal), the 429 page of the rate limit, and reading a urlencoded form strictly as UTF-8.

    fields = await form_fields(request)             # {"name": "value"}
    pairs = await form_pairs(request)               # [("choice", "1"), ("choice", "3")]
    return await form_answer(request, back=…, act=…, status=201)

A refusal (`DueProcessError`) is answered with its own `http_status` and its message, which
names the field or rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from dueprocess.errors import DueProcessError
from dueprocess.web.context import client_key, state
from dueprocess.web.errors import BadEncoding, decode_utf8
from dueprocess.web.i18n import words
from dueprocess.web.rendering import page

FormPairs = list[tuple[str, str]]


def message(request: Request, text: str, *, status: int = 200, error: bool = False,
            back: str | None = None, form: dict[str, Any] | None = None,
            heading: str | None = None) -> Response:
    """The message page: `text` under `heading` (for a refusal: "Not accepted"), an
    optional one-button `form` ({"action", "fields", "button"}) and a link `back`."""
    _ = words(request)
    heading = heading or (_("Not accepted") if error else text)
    return page(request, "message.html", {"heading": heading, "message": text,
                                          "error": error, "back": back, "form": form}, status)


def refused(request: Request, exc: DueProcessError, back: str | None = None) -> Response:
    """A refusal's page, with the error's HTTP status and message."""
    return message(request, str(exc), status=exc.http_status, error=True, back=back)


def too_many(request: Request, *, back: str, text: str | None = None) -> Response | None:
    """The 429 page, naming when to try again, if this client sent too many forms; `text`
    (default the kit's own) has a `{seconds}` field. None: the form may be taken."""
    wait = state(request).limiter.retry_after(client_key(request))
    if wait is None:
        return None
    if text is None:
        _ = words(request)  # `_(…)`, so that pybabel extracts the message
        text = _("Too many submissions; try again in {seconds} s")
    response = message(request, text.format(seconds=f"{wait:.0f}"), status=429, error=True,
                       back=back)
    response.headers["Retry-After"] = str(max(1, round(wait)))
    return response


async def form_fields(request: Request) -> dict[str, str]:
    """The fields of a urlencoded form, decoded strictly as UTF-8."""
    return dict(await form_pairs(request))


async def form_pairs(request: Request) -> FormPairs:
    """`form_fields` with a repeated name kept (checkboxes)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise BadEncoding("content-type: send the form as application/x-www-form-urlencoded")
    text = decode_utf8(await request.body())
    try:
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise BadEncoding("body: a form field is not valid UTF-8; send UTF-8 text") from None


async def form_answer(request: Request, *, back: str, act: Callable[[FormPairs], str],
                      status: int) -> Response:
    """A public form's POST: rate-limited; `act` (run off the event loop) takes the form's
    pairs and returns the answer's text; bad encoding and refusals are answered naming the
    field or rule."""
    limited = too_many(request, back=back)
    if limited is not None:
        return limited
    try:
        text = await run_in_threadpool(act, await form_pairs(request))
    except BadEncoding as exc:
        return message(request, str(exc), status=400, error=True, back=back)
    except DueProcessError as exc:
        return refused(request, exc, back=back)
    return message(request, text, status=status, back=back)
