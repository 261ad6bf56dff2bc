"""The reviewer inbox: a logged-in person's tasks with deadlines, each task's materials, the
stage's form generated from its evidence schema with document upload, and the answer of
the one recording function (a receipt, or the refusal naming each rule).

A POST without a valid session, or without the session's CSRF token from this site, is
refused with the rule named, audited, and stores nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import col, select

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError, NotFound, Refused
from dueprocess.rules.engine import Unmet
from dueprocess.services.cases import get_case
from dueprocess.services.identity import ARTICLE, PortalLogin
from dueprocess.services.recording import record_evidence
from dueprocess.services.refusal_audit import RECORD, audit_refusal
from dueprocess.settings import get_settings
from dueprocess.web.guards import allow_own_scripts
from models.base import utcnow
from models.people import Assignment, Person
from models.procedure import ProcedureDefinition
from portal.inbox.auth import page
from portal.inbox.forms import FormProblem, evidence_from_form, form_fields
from portal.inbox.prefill import prefill
from portal.inbox.sessions import InboxSession, csrf_ok, current_session, same_origin
from portal.queries import case_detail

router = APIRouter(prefix="/inbox", include_in_schema=False)
CHANNEL = "portal"
CaseId = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,32}$")]
StageKey = Annotated[str, Path(pattern=r"^[a-z0-9_]{1,64}$")]


@dataclass(frozen=True)
class Task:
    case_id: str
    case_title: str
    stage_key: str
    stage_title: str
    articles: str
    due: datetime | None


def open_tasks(handle: str, *, now: datetime) -> list[Task]:
    """The open stages the person is assigned to, soonest deadline first."""
    with session_scope() as session:
        rows = session.exec(
            select(Assignment.case_id, Assignment.stage_key)
            .join(Person, col(Person.id) == col(Assignment.person_id))
            .where(Person.handle == handle).order_by(col(Assignment.case_id))
        ).all()
        tasks = []
        for case_id in dict.fromkeys(case for case, _ in rows):
            detail = case_detail(session, case_id=case_id, now=now)
            assigned = {stage for case, stage in rows if case == case_id}
            tasks += [Task(case_id, detail.title, s.key, s.title, s.articles, s.due)
                      for s in detail.stages if s.key in assigned and s.status == "open"]
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(tasks, key=lambda t: (t.due or far, t.case_id))


def _login_redirect() -> Response:
    return RedirectResponse("/inbox/login", status_code=303)


@router.get("", response_class=HTMLResponse)
def inbox(request: Request) -> Response:
    session = current_session(request)
    if session is None:
        return _login_redirect()
    return page(request, "inbox.html", me=session, tasks=open_tasks(session.handle,
                                                                     now=utcnow()))


def _task_page(request: Request, me: InboxSession, case_id: str, stage_key: str, *,
               problems: list[str] | None = None, status: int = 200) -> Response:
    with session_scope() as session:
        detail = case_detail(session, case_id=case_id, now=utcnow())
        procedure = ProcedureDefinition.model_validate(get_case(session, case_id).procedure)
    if stage_key not in procedure.stage_keys:
        raise NotFound(f"stage '{stage_key}' is not a stage of case {case_id}")
    stage = procedure.stage(stage_key)
    known = prefill(case_id=case_id, stage_key=stage_key, handle=me.handle)
    return allow_own_scripts(page(  # the expert's form signs with inbox-sign.js
        request, "task.html", status, me=me, case=detail, stage=stage,
        state=next(s for s in detail.stages if s.key == stage_key),
        fields=form_fields(stage.stage_kind.evidence, prefill=known), problems=problems or [],
        draft=detail.drafts[-1] if detail.drafts else None,
        max_document_bytes=get_settings().max_document_bytes))


@router.get("/cases/{case_id}/stages/{stage_key}", response_class=HTMLResponse)
def task(request: Request, case_id: CaseId, stage_key: StageKey) -> Response:
    me = current_session(request)
    if me is None:
        return _login_redirect()
    try:
        return _task_page(request, me, case_id, stage_key)
    except DueProcessError as exc:
        return page(request, "message.html", 404, error=True, message=str(exc))


def _refused(request: Request, *, case_id: str, stage_key: str, handle: str | None,
             problem: Unmet, status: int) -> Response:
    """Audit a write refused before it reached the recording function."""
    refusal_id = None
    try:
        with session_scope() as session:
            get_case(session, case_id)
        refusal_id = audit_refusal(case_id=case_id, action=RECORD, stage_key=stage_key,
                                   submitted_by=handle, channel=CHANNEL, idempotency_key=None,
                                   problems=(problem,), now=utcnow())
    except NotFound:
        pass  # an unknown case: nothing to attach the audit to
    return page(request, "message.html", status, error=True,
                message=f"Refused: {problem} (audit record #{refusal_id})")


@router.post("/cases/{case_id}/stages/{stage_key}", response_class=HTMLResponse)
async def submit(request: Request, case_id: CaseId, stage_key: StageKey) -> Response:
    me = current_session(request)
    if me is None:
        return _refused(request, case_id=case_id, stage_key=stage_key, handle=None,
                        problem=Unmet("AUTHENTICATED", ARTICLE, "no inbox session: log in "
                                      "first; a handle alone is not accepted"), status=401)
    form = await request.form()
    if not same_origin(request) or not csrf_ok(me.csrf, form.get("csrf")):
        return _refused(request, case_id=case_id, stage_key=stage_key, handle=me.handle,
                        problem=Unmet("CSRF", "ASVS 4.2.2", "the form did not come from "
                                      "this portal's page (CSRF token or Origin)"), status=403)
    try:
        with session_scope() as session:
            procedure = ProcedureDefinition.model_validate(get_case(session, case_id).procedure)
        if stage_key not in procedure.stage_keys:
            raise NotFound(f"stage '{stage_key}' is not a stage of case {case_id}")
        model = procedure.stage(stage_key).stage_kind.evidence
        evidence = await evidence_from_form(  # the server fills in what it holds itself
            model, form, max_document_bytes=get_settings().max_document_bytes,
            prefill=prefill(case_id=case_id, stage_key=stage_key, handle=me.handle))
        item = record_evidence(case_id=case_id, stage_key=stage_key, recorded_by=me.handle,
                               evidence=evidence, channel=CHANNEL,
                               login=PortalLogin(me.handle, me.method))
    except Refused as refused:
        return _task_page(request, me, case_id, stage_key,
                          problems=[str(p) for p in refused.problems], status=422)
    except FormProblem as exc:
        return _task_page(request, me, case_id, stage_key, problems=[str(exc)], status=422)
    except NotFound as exc:
        return page(request, "message.html", 404, error=True, message=str(exc))
    return page(request, "receipt.html", 201, me=me, item=item, case_id=case_id)
