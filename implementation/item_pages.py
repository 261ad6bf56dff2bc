"""The public pages of implementation (Art. 34–35): items per level with their progress,
and one item's milestones, progress updates and supervision, with a progress chart
drawn as inline SVG (no script: it renders wherever the page does), and residents'
comments, ratings and presses under it (a form; errors name the field)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from dueprocess.clock import system_now
from dueprocess.errors import NotFound, schema_problems
from dueprocess.web.context import client_key
from dueprocess.web.errors import BadEncoding
from dueprocess.web.forms import FormPairs, form_answer, form_fields, message, too_many
from dueprocess.web.i18n import words
from dueprocess.web.language import language_query
from dueprocess.web.rendering import page
from implementation.item_comments import comment_on_item, item_comments
from implementation.items import ItemView, item_view, items
from models.implementation import ItemCommentCreate
from models.programme import Level
from notifications.public import follow_item

router = APIRouter(prefix="/programme/items", include_in_schema=False,
                   dependencies=[Depends(language_query)])
CHART_WIDTH, CHART_HEIGHT = 320, 120
ItemId = Annotated[int, Path(ge=1)]


def chart_points(view: ItemView) -> str:
    """The SVG polyline of percent done, one point per progress update."""
    percents = [0, *(u.percent for u in view.updates)]
    step = CHART_WIDTH / max(1, len(percents) - 1)
    return " ".join(f"{i * step:.1f},{CHART_HEIGHT - p * CHART_HEIGHT / 100:.1f}"
                    for i, p in enumerate(percents))


def report_year(views: list[ItemView]) -> int:
    """The year whose report the items page links to: the year the shown items are in on
    their cases' clocks (a simulated 2027 is 2027, whatever the machine's year), the
    latest if they differ; the machine's year when nothing is shown."""
    return max((view.today.year for view in views), default=system_now().year)


@router.get("", response_class=HTMLResponse)
def items_page(request: Request, level: Annotated[Level | None, Query()] = None) -> Response:
    shown = [item_view(item.id) for item in items(level=level.value if level else None)
             if item.id is not None]
    return page(request, "implementation_items.html", {
        "views": shown, "level": level.value if level else None,
        "levels": [lv.value for lv in Level], "year": report_year(shown)})


def _item(request: Request, item_id: int, *, fields: dict[str, str] | None = None,
          errors: list[str] | None = None, status: int = 200) -> Response:
    try:
        view = item_view(item_id)
    except NotFound:
        _ = words(request)
        return message(request, _("No such item"), status=404, error=True,
                       back="/programme/items")
    return page(request, "implementation_item.html", {
        "view": view, "points": chart_points(view),
        "width": CHART_WIDTH, "height": CHART_HEIGHT,
        "comments": item_comments(item_id=item_id, limit=200), "fields": fields or {},
        "errors": errors or []}, status)


@router.get("/{item_id}", response_class=HTMLResponse)
def item_page(request: Request, item_id: ItemId) -> Response:
    return _item(request, item_id)


@router.post("/{item_id}/comments")
async def comment_post(request: Request, item_id: ItemId) -> Response:
    back = f"/programme/items/{item_id}"
    _ = words(request)
    limited = too_many(request, back=back)
    if limited is not None:
        return limited
    try:
        submitted = await form_fields(request)
    except BadEncoding as exc:
        return message(request, str(exc), status=400, error=True, back=back)
    fields = {name: submitted.get(name, "")[:2000] for name in ("body", "rating", "press")}
    try:
        comment = ItemCommentCreate.model_validate({
            "body": fields["body"], "rating": fields["rating"].strip() or None,
            "press": fields["press"] == "on"})
    except ValidationError as exc:
        problems = schema_problems(exc.errors())  # type: ignore[arg-type]
        return _item(request, item_id, fields=fields, errors=[p.message for p in problems],
                     status=422)
    try:
        comment_on_item(item_id=item_id, request=comment, client=client_key(request))
    except NotFound:
        return _item(request, item_id)  # the page says there is no such item
    return RedirectResponse(f"{back}#comments", status_code=303)


@router.post("/{item_id}/follow")
async def follow_post(request: Request, item_id: ItemId) -> Response:
    """Follow an item: the confirmation link goes to the channel, which hears nothing until
    it is opened; a refusal names the field and the rule (an unknown item answers 404)."""
    _ = words(request)

    def follow(pairs: FormPairs) -> str:
        fields = dict(pairs)
        pending = follow_item(item_id=item_id, url=fields.get("url", "")[:2000],
                              digest=fields.get("digest") == "on")
        return _("A confirmation link was sent to {channel}: open it to follow this "
                 "item.").format(channel=pending.privacy_url)

    return await form_answer(request, back=f"/programme/items/{item_id}", act=follow,
                             status=200)
