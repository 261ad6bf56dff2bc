"""After the decision, Decree 713 Art. 36–37: an evaluation opened from the decision it
evaluates, by a unit that did not assess it before; an adjustment or a stop only through
the whole procedure again; and the evaluation falling due on the schedule or when enough
residents, each verified through a channel they control, have asked for it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, func, select

from dueprocess.db import session_scope
from dueprocess.errors import Refused
from dueprocess.ledger import verify_log
from dueprocess.services.cases import get_case, register_person
from dueprocess.services.progress import advance_case
from dueprocess.services.recording import record_evidence
from implementation.evaluation_due import (
    after_decision,
    confirm_request,
    mark_due_evaluations,
    send_request_code,
)
from implementation.follow_up import FollowUpView, open_adjustment_as, open_evaluation_as, standing
from models.base import utcnow
from models.evidence import Refusal
from models.follow_up import EvaluationDue, FollowUp, FollowUpKind, follow_up_chain
from models.ledger import LogLeaf
from models.notices import Notice
from models.people import Person, PersonCreate
from notifications.transport.receiver import WebhookReceiver
from tests.support import demo_case_data, token_for

OFFICIAL = "wang.fang"
EVALUATOR = {"handle": "ye.qing", "name": "Ye Qing", "role": "expert",
             "unit": "Peking University Evaluation Centre"}
A_YEAR_LATER = "2027-11-25T09:00:00+08:00"  # the demo's decision was recorded in 2026-11
EVALUATION = {"evaluated_by": EVALUATOR["unit"], "third_party": True,
              "method": "Counts at 40 sites; a survey of 1,200 residents.",
              "public_opinions_heard": 1200, "participants": ["deputies", "cppcc_members"],
              "findings": "Turnover at the kerb rose by a third; complaints fell.",
              "conclusion": "continue", "concluded_on": "2027-11-25"}


@pytest.fixture(autouse=True)
def evaluator_registered() -> None:
    with session_scope() as session:
        if session.exec(select(Person).where(Person.handle == EVALUATOR["handle"])).first() \
                is None:
            register_person(session, PersonCreate.model_validate(EVALUATOR))


@pytest.fixture(autouse=True)
def loopback_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUEPROCESS_NOTIFY_ALLOW_PRIVATE_TARGETS", "true")


@pytest.fixture
def webhook() -> Any:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


def case_file(**changes: Any) -> dict[str, Any]:
    data = demo_case_data()
    for generated in ("title", "draft"):
        data.pop(generated)
    data.update(procedure="decision-evaluation", expert_panels={},
                simulated_clock={"starts_at": A_YEAR_LATER},
                assignments={"evaluation": [EVALUATOR["handle"]]})
    data["people"].append(EVALUATOR)
    data.update(changes)
    return data


def evaluate(case_id: str, token: str | None = "", **changes: Any) -> str:
    return open_evaluation_as(case_id=case_id, case_file=case_file(**changes),
                              token=token_for(OFFICIAL) if token == "" else token,
                              channel="test").id


def counts(case_id: str) -> tuple[int, int]:
    """(follow-ups of the case, refusals audited on its follow-up chain)"""
    with session_scope() as session:
        follow = session.exec(select(func.count()).select_from(FollowUp)
                              .where(FollowUp.follows == case_id)).one()
        refused = session.exec(select(func.count()).select_from(Refusal)
                               .where(Refusal.case_id == follow_up_chain(case_id))).one()
    return follow, refused


def test_an_evaluation_opens_from_the_decision_and_concludes_as_its_decision(
    decided_case: str,
) -> None:
    evaluation = evaluate(decided_case)
    with session_scope() as session:
        case = get_case(session, evaluation)
        link = session.exec(select(FollowUp).where(FollowUp.case_id == evaluation)).one()
    decided = after_decision(decided_case).decision
    assert case.procedure_id == "decision-evaluation" and decided_case in case.title
    assert (link.follows, link.kind, link.started_by) == (decided_case, "evaluation", "organ")
    advance_case(case_id=evaluation)
    record_evidence(case_id=evaluation, stage_key="evaluation", recorded_by="ye.qing",
                    evidence=EVALUATION, channel="test", token=token_for("ye.qing"))
    assert advance_case(case_id=evaluation).closed
    shown = after_decision(decided_case)
    assert shown.decision.text == decided.text
    assert shown.follow_ups == [FollowUpView(evaluation, "evaluation", "organ", "closed",
                                             "continue")]
    assert shown.standing == ("in force", None)
    with session_scope() as session:  # the link is a record on the decision's follow-ups
        kinds = session.exec(select(LogLeaf.kind).where(
            LogLeaf.case_id == follow_up_chain(decided_case))).all()
    assert "follow-up" in kinds


def test_who_may_open_an_evaluation_and_when(decided_case: str, case_id: str) -> None:
    before = counts(decided_case)
    attempts = {
        "FOLLOW-OFFICIAL": lambda: evaluate(decided_case, token=token_for("prof.zhang"),
                                            opened_by="prof.zhang"),
        "FOLLOW-FILE": lambda: evaluate(decided_case, title="An evaluation of our own"),
        # dr.zhou's institute gave an expert opinion before the decision (Art. 36 ¶2).
        "EVAL-INDEPENDENT": lambda: evaluate(decided_case, assignments={
            "evaluation": ["dr.zhou"]}),
        "EVAL-PROCEDURE": lambda: evaluate(decided_case, procedure="recommendation-reply"),
        "FOLLOW-PROCEDURE": lambda: evaluate(decided_case, procedure="no-such-procedure"),
        "FOLLOW-AFTER-DECISION": lambda: evaluate(
            decided_case, simulated_clock={"starts_at": "2026-10-01T09:00:00+08:00"}),
    }
    for rule, attempt in attempts.items():
        with pytest.raises(Refused) as info:
            attempt()
        assert [p.rule for p in info.value.problems] == [rule], info.value
    assert counts(decided_case) == (before[0], before[1] + len(attempts))
    with pytest.raises(Refused, match="FOLLOW-DECIDED"):
        evaluate(case_id)  # still open: nothing decided to evaluate


def test_an_adjustment_or_a_stop_runs_the_whole_procedure_again(decided_case: str) -> None:
    data = demo_case_data()
    data.update(simulated_clock={"starts_at": A_YEAR_LATER},
                title="Kerbside parking fees: adjusted zones")
    token = token_for(OFFICIAL)
    with pytest.raises(Refused) as info:
        open_adjustment_as(case_id=decided_case, kind=FollowUpKind.STOP, token=token,
                           case_file={**data, "procedure": "normative-document"},
                           channel="test")
    assert [p.rule for p in info.value.problems] == ["ADJUST-FULL-PROCEDURE"]
    adjustment = open_adjustment_as(case_id=decided_case, kind=FollowUpKind.ADJUSTMENT,
                                    case_file=data, token=token, channel="test")
    with session_scope() as session:
        assert get_case(session, adjustment.id).procedure_id == "decree-713"
    shown = after_decision(decided_case)
    assert [(f.case_id, f.kind, f.status) for f in shown.follow_ups] == [
        (adjustment.id, "adjustment", "open")]
    assert shown.standing == ("in force", None)  # until the adjustment is decided


def test_the_standing_follows_the_latest_approved_adjustment_or_stop() -> None:
    evaluated = FollowUpView("dp-1", "evaluation", "schedule", "closed", "adjust")
    rejected = FollowUpView("dp-2", "adjustment", "organ", "closed", "reject")
    adjusted = FollowUpView("dp-3", "adjustment", "organ", "closed", "approve")
    stopped = FollowUpView("dp-4", "stop", "organ", "closed", "approve")
    assert standing([evaluated, rejected]) == ("in force", None)
    assert standing([evaluated, adjusted]) == ("adjusted", "dp-3")
    assert standing([adjusted, stopped]) == ("stopped", "dp-4")


def code_sent(webhook: WebhookReceiver, case_id: str, channel: str) -> str:
    send_request_code(case_id=case_id, channel_url=channel)
    found = re.search(r"\b(\d+-\d{8})\b", webhook.accepted[-1]["message"])
    assert found, webhook.accepted[-1]
    return found.group(1)


def test_residents_asking_make_the_evaluation_due_once(
    decided_case: str, webhook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DUEPROCESS_EVALUATION_REQUEST_THRESHOLD", "2")
    monkeypatch.setenv("DUEPROCESS_EVALUATION_CHANNEL_REQUESTS_COUNT", "true")
    first, second, third = (f"{webhook.url}/resident-{n}" for n in range(3))
    assert confirm_request(case_id=decided_case, code=code_sent(webhook, decided_case,
                                                                first)) == 1
    again = code_sent(webhook, decided_case, first)
    with pytest.raises(Refused, match="EVAL-REQUEST-ONCE"):
        confirm_request(case_id=decided_case, code=again)
    with pytest.raises(Refused, match="EVAL-REQUEST-CODE"):
        confirm_request(case_id=decided_case, code="00000000")
    code = code_sent(webhook, decided_case, second)
    assert confirm_request(case_id=decided_case, code=code) == 2
    with pytest.raises(Refused, match="EVAL-REQUEST-CODE"):
        confirm_request(case_id=decided_case, code=code)  # spent
    assert confirm_request(case_id=decided_case, code=code_sent(webhook, decided_case,
                                                                third)) == 3
    with session_scope() as session:
        [due] = session.exec(select(EvaluationDue).where(
            EvaluationDue.case_id == decided_case)).all()
        notices = session.exec(select(Notice.kind).where(
            Notice.case_id == decided_case, Notice.kind == "evaluation_due")).all()
        logged = session.exec(select(LogLeaf.record).where(
            LogLeaf.case_id == follow_up_chain(decided_case))).all()
    assert (due.reason, due.requests) == ("residents", 2) and len(notices) == 1
    assert not any("resident-" in record for record in logged)  # pseudonyms only
    assert evaluate(decided_case) and after_decision(decided_case).follow_ups[0].started_by \
        == "residents"
    verify_log()


def test_the_schedule_marks_a_major_decision_due_once(decided_case: str) -> None:
    assert decided_case not in {row.case_id for row in mark_due_evaluations(now=utcnow())}
    later = utcnow() + timedelta(days=400)  # past DUEPROCESS_EVALUATION_AFTER_DAYS (365)
    marked = [row for row in mark_due_evaluations(now=later) if row.case_id == decided_case]
    assert [(row.reason, row.requests) for row in marked] == [("schedule", 0)]
    assert [r for r in mark_due_evaluations(now=later) if r.case_id == decided_case] == []
    assert evaluate(decided_case)
    with session_scope() as session:
        link = session.exec(select(FollowUp).where(FollowUp.follows == decided_case)
                            .order_by(col(FollowUp.id).desc())).first()
    assert link is not None and link.started_by == "schedule"


def test_the_public_page_shows_the_standing_and_takes_requests(
    decided_case: str, client: TestClient, webhook: WebhookReceiver,
) -> None:
    page = client.get(f"/programme/evaluations/{decided_case}?lang=en")
    assert page.status_code == 200 and "in force" in page.text
    assert re.search(r'id="requests">0<', page.text)
    sent = client.post(f"/programme/evaluations/{decided_case}/code",
                       data={"url": f"{webhook.url}/page-resident"})
    assert sent.status_code == 202, sent.text
    code = re.search(r"\b(\d+-\d{8})\b", webhook.accepted[-1]["message"])
    assert code is not None
    counted = client.post(f"/programme/evaluations/{decided_case}/requests",
                          data={"code": code.group(1)})
    assert counted.status_code == 201 and "1 residents" in counted.text
    assert re.search(r'id="requests">1<', client.get(
        f"/programme/evaluations/{decided_case}").text)
    wrong = client.post(f"/programme/evaluations/{decided_case}/requests",
                        data={"code": "12345678"})
    assert wrong.status_code == 400 and "EVAL-REQUEST-CODE" in wrong.text
    bad_url = client.post(f"/programme/evaluations/{decided_case}/code",
                          data={"url": "file:///etc/passwd"})
    assert bad_url.status_code in (400, 422) and "url" in bad_url.text
    assert client.get("/programme/evaluations/dp-2099-nosuch").status_code == 404


def test_a_code_that_cannot_be_delivered_is_refused_naming_the_channel(
    decided_case: str,
) -> None:
    stopped = WebhookReceiver().start()
    stopped.stop()  # nobody listens there any more
    with pytest.raises(Refused, match=r"EVAL-REQUEST-VERIFIED.*url: the code could not be "
                                      r"delivered"):
        send_request_code(case_id=decided_case, channel_url=f"{stopped.url}/gone")
