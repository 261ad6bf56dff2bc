"""The programme's portal pages: the "我要提实事" proposal form, its receipt, and a year's
proposals with their published moderation marks. Included by `portal.app`; rendered by
the portal's layout in the request's language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlmodel import select

from dueprocess.clock import system_now
from dueprocess.db import session_scope
from dueprocess.errors import schema_problems
from dueprocess.web.context import client_key
from dueprocess.web.errors import BadEncoding
from dueprocess.web.forms import form_fields, message, too_many
from dueprocess.web.i18n import words
from dueprocess.web.language import language_query
from dueprocess.web.rendering import page
from models.programme import Level, Proposal, ProposalCreate
from programme.proposals import marks_of, proposals_of_year, submit_proposal

router = APIRouter(prefix="/programme", include_in_schema=False,
                   dependencies=[Depends(language_query)])
FIELDS = ("category", "level", "street", "place", "description", "author")
Receipt = Annotated[str, Path(pattern=r"^P[0-9]{8}-[0-9A-F]{8}$")]


def _form(request: Request, fields: dict[str, str], errors: list[str],
          status: int = 200) -> Response:
    return page(request, "programme_propose.html", {
        "fields": fields, "errors": errors,
        "levels": [level.value for level in Level]}, status)


@router.get("/propose", response_class=HTMLResponse)
def propose_page(request: Request) -> Response:
    return _form(request, {}, [])


@router.post("/propose")
async def propose_post(request: Request) -> Response:
    _ = words(request)
    limited = too_many(request, back="/programme/propose")
    if limited is not None:
        return limited
    try:
        submitted = await form_fields(request)
    except BadEncoding as exc:
        return message(request, str(exc), status=400, error=True, back="/programme/propose")
    fields = {name: submitted.get(name, "")[:5000] for name in FIELDS}
    try:
        request_model = ProposalCreate.model_validate(
            {k: v for k, v in fields.items() if v.strip() or k in ("category", "place",
                                                                   "description", "level")})
    except ValidationError as exc:
        problems = schema_problems(exc.errors())  # type: ignore[arg-type]
        return _form(request, fields, [p.message for p in problems], status=422)
    proposal = submit_proposal(request=request_model, client=client_key(request))
    # Post/redirect/get: reloading the receipt never submits again.
    return RedirectResponse(f"/programme/proposals/{proposal.receipt_number}", status_code=303)


@router.get("/proposals/{receipt}", response_class=HTMLResponse)
def receipt_page(request: Request, receipt: Receipt) -> Response:
    with session_scope() as session:
        proposal = session.exec(select(Proposal).where(
            Proposal.receipt_number == receipt)).first()
        if proposal is None:
            _ = words(request)
            return message(request, _("No such receipt"), status=404, error=True,
                           back="/programme/propose")
        marks = marks_of(session, [proposal.id or 0])
        session.expunge(proposal)
    return page(request, "programme_receipt.html", {
        "proposal": proposal, "mark": marks[0] if marks else None})


@router.get("/{year}", response_class=HTMLResponse)
def year_page(
    request: Request, year: Annotated[int, Path(ge=2000, le=2100)],
    after: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    shown = proposals_of_year(year=year, after=after, limit=100)
    return page(request, "programme_year.html", {
        "year": year, "proposals": shown,
        "next": shown[-1].proposal.id if len(shown) == 100 else None,
        "this_year": system_now().year})
