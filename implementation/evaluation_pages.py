"""The public page of a decision's after-life (Decree 713 Art. 36–37): whether it is in
force, adjusted or stopped, its evaluations and adjustments, whether its evaluation is due
and how many residents asked for one; and the form by which a resident asks, confirming
with a one-time code sent to a channel they control."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import HTMLResponse

from dueprocess.errors import DueProcessError
from dueprocess.settings import get_evaluation_settings
from dueprocess.web.forms import FormPairs, form_answer, message
from dueprocess.web.i18n import words
from dueprocess.web.language import chosen_language, language_query
from dueprocess.web.rendering import page
from implementation.evaluation_due import after_decision, confirm_request, send_request_code

router = APIRouter(prefix="/programme/evaluations", include_in_schema=False,
                   dependencies=[Depends(language_query)])
CaseId = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,32}$")]


@router.get("/{case_id}", response_class=HTMLResponse)
def evaluation_page(request: Request, case_id: CaseId) -> Response:
    try:
        shown = after_decision(case_id)
    except DueProcessError:  # an unknown case, or one not decided
        _ = words(request)
        return message(request, _("No such decision"), status=404, error=True,
                       back="/")
    return page(request, "implementation_evaluation.html", {
        "shown": shown,
        "threshold": get_evaluation_settings().evaluation_request_threshold})


@router.post("/{case_id}/code")
async def code_post(request: Request, case_id: CaseId) -> Response:
    _ = words(request)

    def send(pairs: FormPairs) -> str:
        channel = send_request_code(case_id=case_id, channel_url=dict(pairs).get("url", ""),
                                    language=chosen_language(request))
        return _("A code was sent to {channel}; it is valid for 15 minutes.").format(
            channel=channel)

    return await form_answer(request, back=f"/programme/evaluations/{case_id}", act=send,
                             status=202)


@router.post("/{case_id}/requests")
async def request_post(request: Request, case_id: CaseId) -> Response:
    _ = words(request)

    def count(pairs: FormPairs) -> str:
        counted = confirm_request(case_id=case_id, code=dict(pairs).get("code", ""))
        return _("Your request is counted. {count} residents have asked so far.").format(
            count=counted)

    return await form_answer(request, back=f"/programme/evaluations/{case_id}", act=count,
                             status=201)
