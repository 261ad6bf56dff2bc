"""When an evaluation after the decision falls due (Decree 713 Art. 36): on the schedule,
`DUEPROCESS_EVALUATION_AFTER_DAYS` after dueprocess recorded a major decision (on the
case's clock), or as soon as `DUEPROCESS_EVALUATION_REQUEST_THRESHOLD` residents have
asked for it.

A resident asks on the portal: a one-time code sent through Apprise to a channel they
control (as a public voter's) confirms the request, which is stored under a keyed
pseudonym of that channel (canonicalised first: one mailbox is one resident however it is
typed), one per resident and decision, and logged. The codes are hardened as a ballot's:
a code dies after `DUEPROCESS_CODE_MAX_ATTEMPTS` wrong attempts, a decision's requests
take `DUEPROCESS_EVALUATION_REQUEST_ATTEMPT_BUDGET` wrong codes in all, and refused codes
are logged only in aggregate (`notifications.public.count_guesses`). Each request carries
its assurance level: requests confirmed by a channel (`channel`) count toward the
threshold only with `DUEPROCESS_EVALUATION_CHANNEL_REQUESTS_COUNT`; verified residents'
(`verified`, stored by the resident-verification feature) always count. Falling due writes
an `EvaluationDue` row and publishes `evaluation.due` on the decision's follow-up chain in
one transaction: the notification feature tells the officials, the Prefect events feature
emits `dueprocess.evaluation.due`. The organ then opens the evaluation
(`implementation.follow_up`): Art. 36 has the organ charge the unit that evaluates, a choice
dueprocess does not make for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from dueprocess.clock import system_now
from dueprocess.contact_secrets import keyed_digest
from dueprocess.db import session_scope
from dueprocess.journal import CaseEvent, publish
from dueprocess.rules.engine import Unmet
from dueprocess.services.case_clock import clock_offsets
from dueprocess.services.cases import get_case
from dueprocess.services.refusal_audit import audited
from dueprocess.settings import get_code_settings, get_evaluation_settings
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
from models.one_time_codes import Assurance
from notifications.public import (
    CODE_TTL,
    CodeRefused,
    canonical_channel,
    code_text,
    count_guesses,
    digest_matches,
    guesses_spent,
    new_code,
    parse_code,
    secret_digest,
    send_code_to,
)

DUE = "evaluation.due"
REQUESTED = "evaluation_request.confirmed"


def requester(case_id: str, channel_url: str) -> str:
    """The resident's keyed pseudonym for this decision (another decision gives another),
    of the canonical channel."""
    canonical = canonical_channel(channel_url,
                                  plus_tags=get_code_settings().code_email_plus_tags)
    return keyed_digest(f"evaluation-requester-{case_id}", canonical)[:64]


def _code_digest(case_id: str, secret: str) -> str:
    return secret_digest(case_id, secret)


def send_request_code(*, case_id: str, channel_url: str, now: datetime | None = None) -> str:
    """Send a one-time code to the channel a resident asking for the evaluation of
    `case_id` controls (one live code per canonical channel: a new one replaces the last);
    returns the channel in privacy form."""
    def issue(canonical: str) -> str:
        at = now or system_now()
        secret = new_code()
        with session_scope() as session:
            decision_of(session, case_id)
            pseudonym = requester(case_id, canonical)
            for live in session.exec(select(RequestCode).where(
                    RequestCode.case_id == case_id, RequestCode.pseudonym == pseudonym,
                    col(RequestCode.used_at).is_(None), RequestCode.expires_at > at)):
                live.expires_at = at  # replaced
                session.add(live)
            row = RequestCode(case_id=case_id, pseudonym=pseudonym,
                              code_sha256=_code_digest(case_id, secret),
                              expires_at=at + CODE_TTL)
            session.add(row)
            session.flush()
            assert row.id is not None
            return code_text(locator=row.id, secret=secret)

    return send_code_to(
        channel_url=channel_url, issue=issue, rule="EVAL-REQUEST-VERIFIED", rules=RULES,
        title=f"Case {case_id}: your code to ask for an evaluation",
        purpose=f"to ask for the evaluation of the decision of case {case_id}")


def request_count(session: Session, case_id: str) -> int:
    """Every resident who asked, at any assurance level."""
    return int(session.exec(select(func.count(col(EvaluationRequest.id))).where(
        EvaluationRequest.case_id == case_id)).one())


def counted_requests(session: Session, case_id: str) -> int:
    """The requests that count toward the threshold: verified residents', and channel
    requests where `DUEPROCESS_EVALUATION_CHANNEL_REQUESTS_COUNT` says so."""
    levels = [Assurance.VERIFIED.value]
    if get_evaluation_settings().evaluation_channel_requests_count:
        levels.append(Assurance.CHANNEL.value)
    return int(session.exec(select(func.count(col(EvaluationRequest.id))).where(
        EvaluationRequest.case_id == case_id,
        col(EvaluationRequest.assurance).in_(levels))).one())


def confirm_request(*, case_id: str, code: str, now: datetime | None = None) -> int:
    """Count the request the code confirms; returns how many residents have asked. The
    request that brings the counted requests to the threshold makes the evaluation due.
    A refused code is counted in aggregate, never audited alone."""
    now = now or system_now()
    with audited(case_id=follow_up_chain(case_id), action="request_evaluation",
                 stage_key=None, person=None, channel="portal"):
        outcome = _confirm(case_id=case_id, code=code, now=now)
    if isinstance(outcome, CodeRefused):
        raise outcome
    return outcome


def _confirm(*, case_id: str, code: str, now: datetime) -> int | CodeRefused:
    with session_scope() as session:
        # One confirmation of a decision at a time: the threshold is crossed exactly once.
        session.exec(select(Decision).where(Decision.case_id == case_id).with_for_update())
        decision_of(session, case_id)
        locator, secret = parse_code(code) or (0, "")
        sent = session.get(RequestCode, locator) if locator else None
        guess = _code_problem(session, case_id=case_id, sent=sent,
                              digest=_code_digest(case_id, secret), now=now)
        if guess is not None:  # committed: the spent attempt and the count
            count_guesses(session, chain=follow_up_chain(case_id), count=1, at=now)
            return guess
        assert sent is not None
        if session.exec(select(EvaluationRequest.id).where(
                EvaluationRequest.case_id == case_id,
                EvaluationRequest.pseudonym == sent.pseudonym)).first() is not None:
            raise refused("EVAL-REQUEST-ONCE", f"this channel has already asked for the "
                                               f"evaluation of case {case_id}")
        sent.used_at = now
        request = EvaluationRequest(case_id=case_id, pseudonym=sent.pseudonym,
                                    requested_at=now, assurance=Assurance.CHANNEL.value)
        session.add_all([sent, request])
        session.flush()
        publish(session, CaseEvent(case_id=follow_up_chain(case_id), kind=REQUESTED,
                                   occurred_at=now, subject_id=request.id,
                                   body={"evaluates": case_id}))
        counted = counted_requests(session, case_id)
        if counted >= get_evaluation_settings().evaluation_request_threshold:
            _mark_due(session, case_id=case_id, reason=StartedBy.RESIDENTS, requests=counted,
                      now=now)
        return request_count(session, case_id)


def _guess(rule: str, message: str) -> CodeRefused:
    return CodeRefused([Unmet(rule, RULES, message)])


def _code_problem(session: Session, *, case_id: str, sent: RequestCode | None, digest: str,
                  now: datetime) -> CodeRefused | None:
    """Why a request code is refused; a wrong code spends one of its attempts."""
    budget = get_evaluation_settings().evaluation_request_attempt_budget
    limit = get_code_settings().code_max_attempts
    if guesses_spent(session, follow_up_chain(case_id)) >= budget:
        return _guess("EVAL-REQUEST-GUESS-BUDGET", f"code: the requests for case {case_id} "
                      f"have refused {budget} wrong codes, their attempt budget; no code is "
                      "taken any more")
    if sent is None or sent.case_id != case_id:
        return _guess("EVAL-REQUEST-CODE", "code: wrong, used or expired; ask for a new one")
    if sent.attempts >= limit:
        return _guess("EVAL-REQUEST-CODE-ATTEMPTS", f"code: refused after {limit} wrong "
                      "attempts; ask for a new one")
    if not digest_matches(sent.code_sha256, digest):
        sent.attempts += 1
        session.add(sent)
        if sent.attempts >= limit:
            return _guess("EVAL-REQUEST-CODE-ATTEMPTS", f"code: wrong, attempt {limit} of "
                          f"{limit}: the code is dead; ask for a new one")
        return _guess("EVAL-REQUEST-CODE", f"code: wrong (attempt {sent.attempts} of "
                      f"{limit}), used or expired; ask for a new one")
    if sent.used_at is not None or sent.expires_at <= now:
        return _guess("EVAL-REQUEST-CODE", "code: wrong, used or expired; ask for a new one")
    return None


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
