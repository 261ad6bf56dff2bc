"""The portal's HTML pages: case list, case page, comment form and receipt, subscriptions,
and the Atom feeds.

Every page is in the request's language (`dueprocess.web.language`: zh-CN unless `?lang=en` or its
cookie) and shows times in the portal's time zone (`dueprocess.web.localize`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import select

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError, NotFound
from dueprocess.i18n import translations
from dueprocess.ledger.heads import latest_tree_head
from dueprocess.services.case_clock import case_now
from dueprocess.services.cases import get_case
from dueprocess.settings import get_notify_settings
from dueprocess.web.context import client_key, state
from dueprocess.web.errors import BadEncoding
from dueprocess.web.forms import form_fields, message, refused, too_many
from dueprocess.web.i18n import words
from dueprocess.web.language import chosen_language, language_query
from dueprocess.web.rendering import page
from models.base import utcnow
from models.notices import Comment
from notifications.public import confirm, subscribe, unsubscribe
from portal.comments.attribution import attribution_state, report_misattribution
from portal.comments.submission import CommentCreate, CommentPublic, submit_comment
from portal.feed import atom_feed
from portal.queries import case_detail, case_summaries, public_notices

router = APIRouter(include_in_schema=False, dependencies=[Depends(language_query)])
CaseId = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,32}$")]
ATOM = "application/atom+xml; charset=utf-8"


def _tree_head() -> Any:
    try:
        return latest_tree_head()
    except Exception:  # no log yet, or its tables missing: show the page without it
        return None


@router.get("/", response_class=HTMLResponse)
def cases_page(request: Request) -> Response:
    with session_scope() as session:
        cases = case_summaries(session, now=utcnow())
    return page(request, "cases.html", {"cases": cases})


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: CaseId) -> Response:
    try:
        with session_scope() as session:
            now = case_now(session, case_id)  # a simulated case's page shows its own time
            case = case_detail(session, case_id=case_id, now=now)
    except NotFound as exc:
        return refused(request, exc, back="/")
    return page(request, "case.html", {
        "case": case, "tree_head": _tree_head(), "now": now,
        "max_chars": state(request).settings.comment_max_chars,
    })


@router.post("/cases/{case_id}/comments")
async def comment_post(request: Request, case_id: CaseId) -> Response:
    _ = words(request)
    back = f"/cases/{case_id}#comment"
    limited = too_many(request, text=_(
        "too many submissions from your address; try again in {seconds} s"), back=back)
    if limited is not None:
        return limited
    try:
        fields = await form_fields(request)
        comment = CommentCreate(body=fields.get("body", "")[:100_000],
                                author=fields.get("author", "")[:100] or None)
        receipt = submit_comment(case_id=case_id, comment=comment, client=client_key(request))
    except BadEncoding as exc:
        return message(request, str(exc), status=400, error=True, back=back)
    except DueProcessError as exc:
        return refused(request, exc, back=back)
    # Post/redirect/get: reloading the receipt never sends the comment again.
    return RedirectResponse(f"/cases/{case_id}/comments/{receipt.receipt_number}",
                            status_code=303)


@router.get("/cases/{case_id}/comments/{receipt_number}", response_class=HTMLResponse)
def receipt_page(
    request: Request, case_id: CaseId,
    receipt_number: Annotated[str, Path(pattern=r"^C[0-9]{8}-[0-9A-F]{8}$")],
) -> Response:
    with session_scope() as session:
        row = session.exec(select(Comment).where(
            Comment.case_id == case_id, Comment.receipt_number == receipt_number)).first()
        if row is None:
            _ = words(request)
            return message(request, _("receipt {receipt} not found for case {case}").format(
                receipt=receipt_number, case=case_id),
                           status=404, error=True, back=f"/cases/{case_id}")
        comment = CommentPublic(receipt_number=row.receipt_number, author=row.author,
                                body=row.body, sha256=row.sha256, received_at=row.received_at)
        attribution = attribution_state(session, comment_id=row.id or 0)
    return page(request, "receipt.html", {"comment": comment, "case_id": case_id,
                                          "attribution": attribution})


@router.post("/cases/{case_id}/comments/{receipt_number}/attribution")
async def attribution_post(
    request: Request, case_id: CaseId,
    receipt_number: Annotated[str, Path(pattern=r"^C[0-9]{8}-[0-9A-F]{8}$")],
) -> Response:
    """The person shown as a comment's author reports that they did not send it."""
    _ = words(request)
    back = f"/cases/{case_id}/comments/{receipt_number}"
    limited = too_many(request, text=_(
        "too many submissions from your address; try again in {seconds} s"), back=back)
    if limited is not None:
        return limited
    try:
        fields = await form_fields(request)
        report_misattribution(
            case_id=case_id, receipt_number=receipt_number, name=fields.get("name", "")[:200],
            statement=fields.get("statement", "")[:5000], confirm=fields.get("confirm") == "yes",
            client=client_key(request))
    except BadEncoding as exc:
        return message(request, str(exc), status=400, error=True, back=back)
    except DueProcessError as exc:
        return refused(request, exc, back=back)
    return RedirectResponse(f"{back}#attribution", status_code=303)


@router.get("/subscribe", response_class=HTMLResponse)
def subscribe_page(
    request: Request,
    case: Annotated[str | None, Query(pattern=r"^[a-z0-9-]{1,32}$")] = None,
) -> Response:
    found = None
    if case is not None:
        try:
            with session_scope() as session:
                found = get_case(session, case)
        except NotFound as exc:
            return refused(request, exc, back="/")
    return page(request, "subscribe.html", {"case": found})


@router.post("/subscribe")
async def subscribe_post(request: Request) -> Response:
    _ = words(request)
    wait = state(request).limiter.retry_after(client_key(request))
    if wait is not None:
        return message(request, _(
            "too many submissions from your address; try again in {seconds} s").format(
            seconds=f"{wait:.0f}"), status=429, error=True, back="/subscribe")
    try:
        fields = await form_fields(request)
        pending = subscribe(url=fields.get("url", ""), case_id=fields.get("case") or None)
    except BadEncoding as exc:
        return message(request, str(exc), status=400, error=True, back="/subscribe")
    except DueProcessError as exc:
        return refused(request, exc, back="/subscribe")
    # A short heading: the address (often long) is shown once, in the box below it.
    check = _("Check your channel to confirm")
    return message(request, f"{check}: {pending.privacy_url}", status=202, heading=check)


def _token_form(action: str, subscriber: int, token: str, button: str) -> dict[str, Any]:
    return {"action": action, "fields": {"s": subscriber, "t": token}, "button": button}


@router.get("/subscriptions/confirm", response_class=HTMLResponse)
def confirm_page(request: Request, s: Annotated[int, Query(ge=1)],
                 t: Annotated[str, Query(max_length=100)]) -> Response:
    # A GET changes nothing (mail scanners open links); the button confirms.
    _ = words(request)
    return message(request, _("Subscribe"), form=_token_form(
        "/subscriptions/confirm", s, t, _("Confirm")))


@router.post("/subscriptions/confirm")
async def confirm_post(request: Request) -> Response:
    _ = words(request)
    return await _token_action(request, confirm, _("Subscription confirmed"))


@router.get("/unsubscribe", response_class=HTMLResponse)
def unsubscribe_page(request: Request, s: Annotated[int, Query(ge=1)],
                     t: Annotated[str, Query(max_length=100)]) -> Response:
    _ = words(request)
    return message(request, _("Unsubscribe"), form=_token_form(
        "/unsubscribe", s, t, _("Unsubscribe")))


@router.post("/unsubscribe")
async def unsubscribe_post(request: Request) -> Response:
    _ = words(request)
    return await _token_action(request, unsubscribe, _("Unsubscribed; the address is erased"))


async def _token_action(request: Request, action: Any, done: str) -> Response:
    try:
        fields = await form_fields(request)
        subscriber = fields.get("s", "")
        if not subscriber.isdigit():
            raise BadEncoding("s: expected a subscription number")
        action(subscriber_id=int(subscriber), token=fields.get("t", ""))
    except BadEncoding as exc:
        return message(request, str(exc), status=400, error=True)
    except DueProcessError as exc:
        return refused(request, exc)
    return message(request, done)


@router.get("/feed.atom")
def feed(request: Request) -> Response:
    with session_scope() as session:
        notices = public_notices(session, limit=50)
    language = chosen_language(request)
    body = atom_feed(notices=notices, base_url=get_notify_settings().portal_url,
                     title=translations(language).gettext("Major administrative decisions"),
                     feed_path="/feed.atom", language=language)
    return _feed_response(body)


@router.get("/cases/{case_id}/feed.atom")
def case_feed(request: Request, case_id: CaseId) -> Response:
    try:
        with session_scope() as session:
            case = get_case(session, case_id)
            notices = public_notices(session, case_id=case_id, limit=200)
    except NotFound as exc:
        return refused(request, exc)
    language = chosen_language(request)
    site = translations(language).gettext("Major administrative decisions")
    body = atom_feed(notices=notices, base_url=get_notify_settings().portal_url,
                     title=f"{site}: {case.title}",
                     feed_path=f"/cases/{case_id}/feed.atom", case_id=case_id,
                     language=language)
    return _feed_response(body)


def _feed_response(body: bytes) -> Response:
    response = Response(body, media_type=ATOM)
    response.headers.add_vary_header("Cookie")  # the title follows the language cookie
    return response
