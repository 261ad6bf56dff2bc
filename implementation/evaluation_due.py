"""When an evaluation after the decision falls due (Decree 713 Art. 36): on the schedule,
`DUEPROCESS_EVALUATION_AFTER_DAYS` after dueprocess recorded a major decision (on the
case's clock), or as soon as `DUEPROCESS_EVALUATION_REQUEST_THRESHOLD` residents have
asked for it.

A resident asks on the portal: a one-time code sent through Apprise to a channel they
control (as a public voter's) confirms the request, which is stored under a keyed
pseudonym of that channel, one per resident and decision, and logged. Falling due writes
an `EvaluationDue` row and publishes `evaluation.due` on the decision's follow-up chain in
one transaction: the notification feature tells the officials, the Prefect events feature
emits `dueprocess.evaluation.due`. The organ then opens the evaluation
(`implementation.follow_up`): Art. 36 has the organ charge the unit that evaluates, a choice
dueprocess does not make for it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from dueprocess.clock import system_now
from dueprocess.contact_secrets import keyed_digest
from dueprocess.db import session_scope
from dueprocess.journal import CaseEvent, publish
from dueprocess.services.case_clock import clock_offsets
from dueprocess.services.cases import get_case
from dueprocess.services.refusal_audit import audited
from dueprocess.settings import get_evaluation_settings
from implementation.errors import RULES, refused
from implementation.follow_up import FollowUpView, decision_of, follow_ups, standing
from models.cases import DecisionCase
from models.decisions import Decision
from models.follow_up import (
    EvaluationDue,
    EvaluationRequest,
    FollowUp,
    FollowUpKind,
    RequestCode,
    StartedBy,
    follow_up_chain,
)
from notifications.public import CODE_TTL, new_code, send_code_to

DUE = "evaluation.due"
REQUESTED = "evaluation_request.confirmed"


def requester(case_id: str, channel_url: str) -> str:
    """The resident's keyed pseudonym for this decision (another decision gives another)."""
    return keyed_digest(f"evaluation-requester-{case_id}", channel_url)[:64]


def _code_digest(case_id: str, code: str) -> str:
    return hashlib.sha256(f"{case_id}:{code}".encode()).hexdigest()


def send_request_code(*, case_id: str, channel_url: str, now: datetime | None = None) -> str:
    """Send a one-time code to the channel a resident asking for the evaluation of
    `case_id` controls; returns the channel in privacy form."""
    def issue(canonical: str) -> str:
        code = new_code()
        with session_scope() as session:
            decision_of(session, case_id)
            session.add(RequestCode(case_id=case_id, pseudonym=requester(case_id, canonical),
                                    code_sha256=_code_digest(case_id, code),
                                    expires_at=(now or system_now()) + CODE_TTL))
        return code

    return send_code_to(
        channel_url=channel_url, issue=issue, rule="EVAL-REQUEST-VERIFIED", rules=RULES,
        title=f"Case {case_id}: your code to ask for an evaluation",
        purpose=f"to ask for the evaluation of the decision of case {case_id}")


def request_count(session: Session, case_id: str) -> int:
    return int(session.exec(select(func.count(col(EvaluationRequest.id))).where(
        EvaluationRequest.case_id == case_id)).one())


def confirm_request(*, case_id: str, code: str, now: datetime | None = None) -> int:
    """Count the request the code confirms; returns how many residents have asked. The
    request that reaches the threshold makes the evaluation due."""
    now = now or system_now()
    with audited(case_id=follow_up_chain(case_id), action="request_evaluation",
                 stage_key=None, person=None, channel="portal"), session_scope() as session:
        # One confirmation of a decision at a time: the threshold is crossed exactly once.
        session.exec(select(Decision).where(Decision.case_id == case_id).with_for_update())
        decision_of(session, case_id)
        sent = session.exec(select(RequestCode).where(
            RequestCode.case_id == case_id,
            RequestCode.code_sha256 == _code_digest(case_id, code.strip()))).first()
        if sent is None or sent.used_at is not None or sent.expires_at <= now:
            raise refused("EVAL-REQUEST-CODE", "code: wrong, used or expired; ask for a "
                                               "new one")
        if session.exec(select(EvaluationRequest.id).where(
                EvaluationRequest.case_id == case_id,
                EvaluationRequest.pseudonym == sent.pseudonym)).first() is not None:
            raise refused("EVAL-REQUEST-ONCE", f"this channel has already asked for the "
                                               f"evaluation of case {case_id}")
        sent.used_at = now
        request = EvaluationRequest(case_id=case_id, pseudonym=sent.pseudonym,
                                    requested_at=now)
        session.add_all([sent, request])
        session.flush()
        publish(session, CaseEvent(case_id=follow_up_chain(case_id), kind=REQUESTED,
                                   occurred_at=now, subject_id=request.id,
                                   body={"evaluates": case_id}))
        count = request_count(session, case_id)
        if count >= get_evaluation_settings().evaluation_request_threshold:
            _mark_due(session, case_id=case_id, reason=StartedBy.RESIDENTS, requests=count,
                      now=now)
        return count


def _mark_due(session: Session, *, case_id: str, reason: StartedBy, requests: int,
              now: datetime) -> EvaluationDue | None:
    if session.exec(select(EvaluationDue.id).where(
            EvaluationDue.case_id == case_id)).first() is not None:
        return None
    row = EvaluationDue(case_id=case_id, reason=reason.value, requests=requests,
                        detected_at=now)
    session.add(row)
    session.flush()
    publish(session, CaseEvent(case_id=follow_up_chain(case_id), kind=DUE, occurred_at=now,
                               subject_id=row.id,
                               body={"evaluates": case_id, "reason": reason.value,
                                     "requests": requests}))
    return row


def mark_due_evaluations(now: datetime | None = None) -> list[EvaluationDue]:
    """Mark every major decision whose evaluation fell due on the schedule, once each:
    not evaluated yet, and recorded at least the configured days ago on its case's clock."""
    now = now or system_now()
    after = timedelta(days=get_evaluation_settings().evaluation_after_days)
    marked = []
    with session_scope() as session:
        evaluated = select(FollowUp.follows).where(
            FollowUp.kind == FollowUpKind.EVALUATION.value)
        rows = session.exec(
            select(Decision, DecisionCase)
            .join(DecisionCase, col(DecisionCase.id) == Decision.case_id)
            .where(col(Decision.case_id).not_in(select(EvaluationDue.case_id)),
                   col(Decision.case_id).not_in(evaluated))).all()
        offsets = clock_offsets(session, {case.id for _, case in rows})
        for decision, case in rows:
            if not case.procedure.get("major_decision"):  # frozen at opening, defaults dumped
                continue  # Art. 36 is about major decisions
            case_now = now + offsets.get(case.id, timedelta(0))
            if decision.recorded_at + after > case_now:
                continue
            row = _mark_due(session, case_id=case.id, reason=StartedBy.SCHEDULE,
                            requests=request_count(session, case.id), now=case_now)
            if row is not None:
                marked.append(row)
        session.expunge_all()
    return marked


@dataclass(frozen=True)
class AfterDecision:
    case: DecisionCase
    decision: Decision
    standing: tuple[str, str | None]
    follow_ups: list[FollowUpView]
    requests: int
    due: EvaluationDue | None


def after_decision(case_id: str) -> AfterDecision:
    """A decided case's after-life, as its public page and `implementation follow-ups` show it."""
    with session_scope() as session:
        case = get_case(session, case_id)
        decision = decision_of(session, case_id)
        views = follow_ups(session, case_id)
        due = session.exec(select(EvaluationDue).where(
            EvaluationDue.case_id == case_id)).first()
        found = AfterDecision(case, decision, standing(views), views,
                              request_count(session, case_id), due)
        session.expunge_all()
    return found
