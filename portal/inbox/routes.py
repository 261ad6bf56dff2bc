"""The reviewer inbox: a logged-in person's tasks with deadlines, each task's materials, the
stage's form generated from its evidence schema with document upload, and the answer of
the one recording function (a receipt, or the refusal naming each rule, field by field,
with what was typed kept in the form).

A person sees only the tasks they are assigned to, are a candidate for (a candidate group
of the stage is their role or unit) or hold (`portal.inbox.tasklist`, claimed through
`portal.inbox.claims`); a candidate records only after claiming. Any other task's page
answers 404, as an unknown one does, so that a task's existence is not disclosed (a POST
to it is audited as ASSIGNED-RECORDER and answered the same 404). A POST without a valid
session, or without the session's CSRF token from this site, is refused with the rule
named, audited, and stores nothing.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select
from starlette.datastructures import FormData, UploadFile

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError, NotFound, Refused
from dueprocess.rules.engine import Unmet
from dueprocess.services.cases import get_case
from dueprocess.services.identity import ARTICLE, PortalLogin
from dueprocess.services.recording import record_evidence
from dueprocess.services.refusal_audit import RECORD, audit_refusal
from dueprocess.services.task_claims import ARTICLE as ARTICLE_TASKS
from dueprocess.services.task_claims import holder_of, may_see
from dueprocess.settings import get_settings
from dueprocess.web.guards import allow_own_scripts
from dueprocess.web.i18n import words
from models.base import utcnow
from models.people import Assignment, Person
from models.procedure import ProcedureDefinition
from portal.inbox import tasklist
from portal.inbox.auth import page
from portal.inbox.forms import FormField, FormProblem, evidence_from_form, form_fields
from portal.inbox.prefill import prefill
from portal.inbox.sessions import InboxSession, csrf_ok, current_session, same_origin
from portal.inbox.tasklist import TaskList
from portal.queries import case_detail

router = APIRouter(prefix="/inbox", include_in_schema=False)
CHANNEL = "portal"
CaseId = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,32}$")]
StageKey = Annotated[str, Path(pattern=r"^[a-z0-9_]{1,64}$")]


def _person(session: Session, handle: str) -> Person:
    person = session.exec(select(Person).where(Person.handle == handle)).first()
    if person is None:
        raise NotFound(f"no registered person '{handle}'")
    return person


def open_tasks(handle: str, *, now: datetime, selected: int | None = None) -> TaskList:
    """The person's open tasks (see `portal.inbox.tasklist`)."""
    with session_scope() as session:
        return tasklist.open_tasks(session, _person(session, handle), now=now,
                                   selected=selected)


def can_see(*, handle: str, case_id: str, stage_key: str) -> bool:
    """Assigned by name, a candidate, or the holder: anyone else is answered 404."""
    with session_scope() as session:
        person = session.exec(select(Person).where(Person.handle == handle)).first()
        return person is not None and may_see(session, person=person, case_id=case_id,
                                              stage_key=stage_key)


def may_record(*, handle: str, case_id: str, stage_key: str) -> bool | None:
    """True when assigned by name; None when the person holds the claim (the assignment is
    made as they record); False for a candidate who has not claimed it."""
    with session_scope() as session:
        if session.exec(
            select(Assignment.id).join(Person, col(Person.id) == col(Assignment.person_id))
            .where(Person.handle == handle, Assignment.case_id == case_id,
                   Assignment.stage_key == stage_key)
        ).first() is not None:
            return True
        holder = holder_of(session, case_id=case_id, stage_key=stage_key)
        return None if holder is not None and holder.handle == handle else False


def _no_such_task(request: Request) -> Response:
    """The same answer for a task that does not exist and one that is not the person's."""
    _ = words(request)
    return page(request, "message.html", 404, error=True,
                message=_("No task of yours is at this address."))


FIELD_OF_PROBLEM = re.compile(r"^(?:evidence\.)?([a-z_][a-z0-9_]*)\b")


def problems_by_field(problems: list[Unmet], fields: list[FormField]) -> tuple[
        dict[str, list[str]], list[str]]:
    """Each refusal reason under the field it names (`evidence.level: …`, `areas: …`),
    and the reasons that name no field of the form."""
    names = {f.name for f in fields}
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    for problem in problems:
        found = FIELD_OF_PROBLEM.match(problem.message)
        if found and found.group(1) in names:
            by_field.setdefault(found.group(1), []).append(str(problem))
        else:
            general.append(str(problem))
    return by_field, general


def typed_values(form: FormData | None) -> dict[str, str | list[str]]:
    """What the reviewer typed, to put back in the form after a refusal (files cannot be
    put back: a browser chooses them again)."""
    if form is None:
        return {}
    values: dict[str, str | list[str]] = {}
    for name in form:
        if name == "csrf":
            continue
        texts = [v for v in form.getlist(name) if isinstance(v, str)]
        if any(isinstance(v, UploadFile) for v in form.getlist(name)):
            continue
        values[name] = texts if len(texts) > 1 else (texts[0] if texts else "")
    return values


def _login_redirect() -> Response:
    return RedirectResponse("/inbox/login", status_code=303)


@router.get("", response_class=HTMLResponse)
def inbox(request: Request, filter: int | None = None) -> Response:
    session = current_session(request)
    if session is None:
        return _login_redirect()
    return page(request, "inbox.html", me=session,
                tasks=open_tasks(session.handle, now=utcnow(), selected=filter))


def _task_page(request: Request, me: InboxSession, case_id: str, stage_key: str, *,
               problems: list[Unmet] | None = None, form: FormData | None = None,
               status: int = 200) -> Response:
    with session_scope() as session:
        detail = case_detail(session, case_id=case_id, now=utcnow())
        procedure = ProcedureDefinition.model_validate(get_case(session, case_id).procedure)
    if stage_key not in procedure.stage_keys:
        raise NotFound(f"stage '{stage_key}' is not a stage of case {case_id}")
    stage = procedure.stage(stage_key)
    known = prefill(case_id=case_id, stage_key=stage_key, handle=me.handle)
    fields = form_fields(stage.stage_kind.evidence, prefill=known)
    field_problems, general = problems_by_field(problems or [], fields)
    return allow_own_scripts(page(  # the expert's form signs with inbox-sign.js
        request, "task.html", status, me=me, case=detail, stage=stage,
        state=next(s for s in detail.stages if s.key == stage_key),
        fields=fields, problems=[str(p) for p in problems or []],
        field_problems=field_problems, general_problems=general,
        values=typed_values(form),
        draft=detail.drafts[-1] if detail.drafts else None,
        max_document_bytes=get_settings().max_document_bytes))


@router.get("/cases/{case_id}/stages/{stage_key}", response_class=HTMLResponse)
def task(request: Request, case_id: CaseId, stage_key: StageKey) -> Response:
    me = current_session(request)
    if me is None:
        return _login_redirect()
    if not can_see(handle=me.handle, case_id=case_id, stage_key=stage_key):
        return _no_such_task(request)
    try:
        return _task_page(request, me, case_id, stage_key)
    except DueProcessError:
        return _no_such_task(request)


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
    if not can_see(handle=me.handle, case_id=case_id, stage_key=stage_key):
        # Audited as the rule it breaks, answered as an unknown task.
        _refused(request, case_id=case_id, stage_key=stage_key, handle=me.handle,
                 problem=Unmet("ASSIGNED-RECORDER", "ASVS 8.2.2", f"person '{me.handle}' is "
                               f"not assigned to stage '{stage_key}'"), status=404)
        return _no_such_task(request)
    allowed = may_record(handle=me.handle, case_id=case_id, stage_key=stage_key)
    if allowed is False:
        return _refused(request, case_id=case_id, stage_key=stage_key, handle=me.handle,
                        problem=Unmet("CLAIM-BEFORE-RECORDING", ARTICLE_TASKS,
                                      f"stage '{stage_key}' is offered to a group: claim it "
                                      "before recording"), status=409)
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
                               login=PortalLogin(me.handle, me.method),
                               as_holder=allowed is None)  # assigned as it records
    except Refused as refused:
        return _task_page(request, me, case_id, stage_key, problems=list(refused.problems),
                          form=form, status=422)
    except FormProblem as exc:
        return _task_page(request, me, case_id, stage_key, form=form, status=422,
                          problems=[Unmet("SCHEMA", "form", str(exc))])
    except NotFound:
        return _no_such_task(request)
    except DueProcessError as exc:  # the claim's assignment broke a rule of the stage
        return _task_page(request, me, case_id, stage_key, form=form, status=422,
                          problems=[Unmet("ASSIGNED-RECORDER", "ASVS 8.2.2", str(exc))])
    return page(request, "receipt.html", 201, me=me, item=item, case_id=case_id)
