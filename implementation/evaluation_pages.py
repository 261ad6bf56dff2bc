"""The public page of a decision's after-life (Decree 713 Art. 36–37): whether it is in
force, adjusted or stopped, its evaluations and adjustments, whether its evaluation is due
and how many residents asked for one; and the form by which a resident asks, confirming
with a one-time code sent to a channel they control."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import HTMLResponse

from dueprocess.errors import DueProcessError
from dueprocess.web.language import chosen_language, language_query
from portal.pages import FormPairs, form_answer, message
from dueprocess.web.rendering import page
from implementation.evaluation_due import after_decision, confirm_request, send_request_code
from programme.settings import get_programme_settings

router = APIRouter(prefix="/programme/evaluations", include_in_schema=False,
                   dependencies=[Depends(language_query)])
CaseId = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,32}$")]
WORDS = {
    "zh-CN": {
        "heading": "决策后评估与调整", "decision": "决策", "standing": "执行状态",
        "in force": "执行中", "adjusted": "已调整", "stopped": "已停止执行", "by": "依据",
        "follow_ups": "评估与调整", "evaluation": "决策后评估", "adjustment": "决策调整",
        "stop": "停止执行", "organ": "决策机关启动", "schedule": "到期启动",
        "residents": "群众申请启动", "none": "尚无", "requests": "申请评估的群众",
        "threshold": "达到 {threshold} 人即启动评估", "due": "评估已到期，已告知决策机关",
        "ask": "申请开展决策后评估", "url": "接收验证码的渠道（Apprise 地址，如 mailto://…）",
        "send_code": "发送验证码", "code": "验证码", "confirm": "确认申请",
        "code_sent": "验证码已发送至 {channel}，15 分钟内有效。",
        "counted": "您的申请已记录。目前共有 {count} 名群众申请评估。",
        "too_many": "提交过于频繁，请 {seconds} 秒后再试", "no_case": "没有该决策",
        "outcome": "结论",
    },
    "en": {
        "heading": "Evaluation and adjustment after the decision", "decision": "Decision",
        "standing": "Standing", "in force": "in force", "adjusted": "adjusted",
        "stopped": "stopped", "by": "by", "follow_ups": "Evaluations and adjustments",
        "evaluation": "evaluation", "adjustment": "adjustment", "stop": "stop",
        "organ": "started by the organ", "schedule": "started on schedule",
        "residents": "started at residents' request", "none": "none yet",
        "requests": "Residents who asked for an evaluation",
        "threshold": "{threshold} requests start an evaluation",
        "due": "The evaluation is due; the decision organ has been told",
        "ask": "Ask for an evaluation after the decision",
        "url": "Channel for your code (an Apprise address, e.g. mailto://…)",
        "send_code": "Send me a code", "code": "Code", "confirm": "Confirm my request",
        "code_sent": "A code was sent to {channel}; it is valid for 15 minutes.",
        "counted": "Your request is counted. {count} residents have asked so far.",
        "too_many": "Too many submissions; try again in {seconds} s",
        "no_case": "No such decision", "outcome": "Outcome",
    },
}


def _words(request: Request) -> dict[str, str]:
    return WORDS[chosen_language(request)]


@router.get("/{case_id}", response_class=HTMLResponse)
def evaluation_page(request: Request, case_id: CaseId) -> Response:
    try:
        shown = after_decision(case_id)
    except DueProcessError:  # an unknown case, or one not decided
        return message(request, _words(request)["no_case"], status=404, error=True, back="/")
    return page(request, "implementation_evaluation.html", {
        "p": _words(request), "shown": shown,
        "threshold": get_programme_settings().evaluation_request_threshold})


@router.post("/{case_id}/code")
async def code_post(request: Request, case_id: CaseId) -> Response:
    words = _words(request)

    def send(pairs: FormPairs) -> str:
        channel = send_request_code(case_id=case_id, channel_url=dict(pairs).get("url", ""))
        return words["code_sent"].format(channel=channel)

    return await form_answer(request, back=f"/programme/evaluations/{case_id}", act=send,
                             status=202, too_many_text=words["too_many"])


@router.post("/{case_id}/requests")
async def request_post(request: Request, case_id: CaseId) -> Response:
    words = _words(request)

    def count(pairs: FormPairs) -> str:
        counted = confirm_request(case_id=case_id, code=dict(pairs).get("code", ""))
        return words["counted"].format(count=counted)

    return await form_answer(request, back=f"/programme/evaluations/{case_id}", act=count,
                             status=201, too_many_text=words["too_many"])
