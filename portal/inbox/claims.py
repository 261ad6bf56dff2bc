"""Claim, unclaim and delegate from the inbox, and the person's saved filters.

Each act is a POST with the session's CSRF token; a refusal names its rule on a page
(409), a task the person may not see answers 404 as any unknown one does, and success goes
back to the inbox (303), where the task's holder is shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import select

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError, Refused
from dueprocess.services import task_claims
from dueprocess.web.i18n import words
from models.base import utcnow
from models.people import Person
from portal.inbox.auth import page
from portal.inbox.routes import CaseId, StageKey, can_see
from portal.inbox.sessions import InboxSession, csrf_ok, current_session, same_origin
from portal.inbox.tasklist import Criteria, delete_filter, save_filter

router = APIRouter(prefix="/inbox", include_in_schema=False)
BEIJING = ZoneInfo("Asia/Shanghai")  # a due-before date is a Beijing calendar day


async def _checked(request: Request) -> tuple[InboxSession | None, dict[str, str], Response | None]:
    """The session and the form, or the answer refusing them."""
    me = current_session(request)
    if me is None:
        return None, {}, RedirectResponse("/inbox/login", status_code=303)
    form = await request.form()
    if not same_origin(request) or not csrf_ok(me.csrf, form.get("csrf")):
        return me, {}, _message(request, 403, "CSRF (ASVS 4.2.2): the form did not come "
                                "from this portal's page (CSRF token or Origin)")
    return me, {k: v for k, v in form.items() if isinstance(v, str)}, None


def _message(request: Request, status: int, message: str) -> Response:
    return page(request, "message.html", status, error=True, message=message)


def _back() -> Response:
    return RedirectResponse("/inbox", status_code=303)


async def _act(request: Request, case_id: str, stage_key: str, act: str) -> Response:
    me, form, refused = await _checked(request)
    if refused is not None or me is None:
        return refused or _back()
    if not can_see(handle=me.handle, case_id=case_id, stage_key=stage_key):
        _ = words(request)
        return _message(request, 404, _("No task of yours is at this address."))
    try:
        if act == "claim":
            task_claims.claim(case_id=case_id, stage_key=stage_key, handle=me.handle,
                              now=utcnow())
        elif act == "unclaim":
            task_claims.unclaim(case_id=case_id, stage_key=stage_key, handle=me.handle,
                                now=utcnow())
        else:
            task_claims.delegate(case_id=case_id, stage_key=stage_key, handle=me.handle,
                                 to=form.get("delegate_to", "").strip(), now=utcnow())
    except Refused as exc:
        return _message(request, 409, f"Refused: {exc}")
    except DueProcessError as exc:
        return _message(request, 422, f"Refused: {exc}")
    return _back()


@router.post("/cases/{case_id}/stages/{stage_key}/claim", response_class=HTMLResponse)
async def claim(request: Request, case_id: CaseId, stage_key: StageKey) -> Response:
    return await _act(request, case_id, stage_key, "claim")


@router.post("/cases/{case_id}/stages/{stage_key}/unclaim", response_class=HTMLResponse)
async def unclaim(request: Request, case_id: CaseId, stage_key: StageKey) -> Response:
    return await _act(request, case_id, stage_key, "unclaim")


@router.post("/cases/{case_id}/stages/{stage_key}/delegate", response_class=HTMLResponse)
async def delegate(request: Request, case_id: CaseId, stage_key: StageKey) -> Response:
    return await _act(request, case_id, stage_key, "delegate")


def criteria_from(form: dict[str, str]) -> Criteria:
    """A filter's criteria from the form; a bad date names the field."""
    due = form.get("due_before", "").strip()
    try:
        due_before = (datetime.fromisoformat(due).replace(tzinfo=BEIJING) if due else None)
    except ValueError as exc:
        raise DueProcessError("due_before: a date as YYYY-MM-DD") from exc
    return Criteria(case_id=form.get("case_id", "").strip(),
                    stage_key=form.get("stage_key", "").strip(), due_before=due_before,
                    overdue_only=form.get("overdue_only") in {"on", "true", "1"})


@router.post("/filters", response_class=HTMLResponse)
async def save(request: Request) -> Response:
    me, form, refused = await _checked(request)
    if refused is not None or me is None:
        return refused or _back()
    try:
        criteria = criteria_from(form)
        with session_scope() as session:
            person = session.exec(select(Person).where(Person.handle == me.handle)).one()
            row = save_filter(session, person, name=form.get("name", ""), criteria=criteria,
                              now=utcnow())
            chosen = row.id
    except DueProcessError as exc:
        return _message(request, 422, f"Refused: {exc}")
    return RedirectResponse(f"/inbox?filter={chosen}", status_code=303)


@router.post("/filters/{filter_id}/delete", response_class=HTMLResponse)
async def delete(request: Request, filter_id: Annotated[int, Path(ge=1)]) -> Response:
    me, _form, refused = await _checked(request)
    if refused is not None or me is None:
        return refused or _back()
    with session_scope() as session:
        person = session.exec(select(Person).where(Person.handle == me.handle)).one()
        if not delete_filter(session, person, filter_id=filter_id):
            return _message(request, 404, "No saved filter of yours has this number.")
    return _back()
