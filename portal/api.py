"""The portal's JSON API (OpenAPI at /openapi.json): the same data as the pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError
from dueprocess.services.cases import get_case
from dueprocess.web.context import client_key, state
from dueprocess.web.errors import Problem, decode_utf8, validation_message
from models.base import utcnow
from notifications.public import subscribe
from portal.comments.clusters import CampaignCounts, campaign_counts
from portal.comments.submission import (
    MAX_PAGE,
    CaseComments,
    CommentCreate,
    CommentReceipt,
    comments_for_case,
    submit_comment_async,
)
from portal.queries import (
    CaseDetailPublic,
    CaseSummaryPublic,
    NoticePublic,
    case_detail,
    case_summaries,
    public_notices,
)

router = APIRouter(prefix="/api", tags=["public"])
CaseId = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,32}$", description="Case id")]
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem} for code in (400, 404, 409, 413, 415, 422, 429)
}


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, description="Apprise URL, e.g. mailto://you@example.org")
    case_id: str | None = Field(default=None, pattern=r"^[a-z0-9-]{1,32}$",
                                description="Follow one case; omit for all public notices")


class SubscriptionPending(BaseModel):
    subscriber_id: int
    channel: str = Field(description="The URL in privacy form")
    tag: str
    detail: str


def problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _limited(request: Request) -> JSONResponse | None:
    wait = state(request).limiter.retry_after(client_key(request))
    if wait is None:
        return None
    return problem(429, f"too many submissions from your address; try again in {wait:.0f} s",
                   {"Retry-After": str(max(1, round(wait)))})


async def _json_body(request: Request, model: type[BaseModel]) -> Any:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise UnsupportedMedia("content-type: send application/json")
    return model.model_validate_json(decode_utf8(await request.body()))


class UnsupportedMedia(DueProcessError):
    pass


@router.get("/cases", response_model=list[CaseSummaryPublic])
def list_cases_api() -> list[CaseSummaryPublic]:
    """Every case with its current stages, their deadlines and the comment window."""
    with session_scope() as session:
        return case_summaries(session, now=utcnow())


@router.get("/cases/{case_id}", response_model=CaseDetailPublic, responses=ERRORS)
def case_api(case_id: CaseId) -> Any:
    """One case: stages, timeline, drafts, decision, notices, evidence digests, comments."""
    try:
        with session_scope() as session:
            return case_detail(session, case_id=case_id, now=utcnow())
    except DueProcessError as exc:
        return problem(exc.http_status, str(exc))


@router.get("/cases/{case_id}/notices", response_model=list[NoticePublic], responses=ERRORS)
def case_notices_api(case_id: CaseId) -> Any:
    try:
        with session_scope() as session:
            case_detail(session, case_id=case_id, now=utcnow())  # 404 for an unknown case
            return public_notices(session, case_id=case_id, limit=200)
    except DueProcessError as exc:
        return problem(exc.http_status, str(exc))


@router.get("/notices", response_model=list[NoticePublic], responses={422: {"model": Problem}})
def notices_api(limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[NoticePublic]:
    """The latest public notices of every case, newest first."""
    with session_scope() as session:
        return public_notices(session, limit=limit)


@router.get("/cases/{case_id}/comments", response_model=CaseComments, responses=ERRORS)
def comments_api(
    case_id: CaseId,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Comments per page")] = 50,
    after: Annotated[int | None, Query(ge=0, description="next_cursor of the previous page")]
    = None,
) -> Any:
    """A case's comments, oldest first, one page at a time (follow `next_cursor`)."""
    try:
        with session_scope() as session:
            get_case(session, case_id)  # 404 for an unknown case
            return comments_for_case(session, case_id=case_id, limit=limit, after=after)
    except DueProcessError as exc:
        return problem(exc.http_status, str(exc))


@router.get("/cases/{case_id}/campaigns", response_model=CampaignCounts, responses=ERRORS)
def campaigns_api(
    case_id: CaseId,
    largest: Annotated[int, Query(ge=0, le=200, description="Clusters to list")] = 20,
) -> Any:
    """True counts of the case's comments: unique comments against mass-campaign copies,
    and the largest campaign clusters (exact and near-duplicate texts)."""
    try:
        with session_scope() as session:
            get_case(session, case_id)
            return campaign_counts(session, case_id=case_id, largest=largest)
    except DueProcessError as exc:
        return problem(exc.http_status, str(exc))


@router.post(
    "/cases/{case_id}/comments", status_code=201, response_model=CommentReceipt,
    responses=ERRORS,
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": CommentCreate.model_json_schema()}}}},
)
async def submit_comment_api(case_id: CaseId, request: Request) -> Any:
    """Send a comment while the case's comment window is open; returns its receipt."""
    limited = _limited(request)
    if limited is not None:
        return limited
    try:
        comment = await _json_body(request, CommentCreate)
        return await submit_comment_async(case_id=case_id, comment=comment,
                                          client=client_key(request))
    except UnsupportedMedia as exc:
        return problem(415, str(exc))
    except ValidationError as exc:
        return problem(422, validation_message(exc))
    except DueProcessError as exc:
        return problem(exc.http_status, str(exc))


@router.post(
    "/subscriptions", status_code=202, response_model=SubscriptionPending, responses=ERRORS,
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": SubscriptionCreate.model_json_schema()}}}},
)
async def subscribe_api(request: Request) -> Any:
    """Subscribe an Apprise URL; a confirmation link is sent to it first."""
    limited = _limited(request)
    if limited is not None:
        return limited
    try:
        data = await _json_body(request, SubscriptionCreate)
        pending = subscribe(url=data.url, case_id=data.case_id)
    except UnsupportedMedia as exc:
        return problem(415, str(exc))
    except ValidationError as exc:
        return problem(422, validation_message(exc))
    except DueProcessError as exc:
        return problem(exc.http_status, str(exc))
    return SubscriptionPending(
        subscriber_id=pending.subscriber_id, channel=pending.privacy_url, tag=pending.tag,
        detail="open the confirmation link sent to this channel to start receiving notices",
    )
