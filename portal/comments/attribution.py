"""Comments falsely attributed (ACUS Recommendation 2021-1): a person shown as the author
of a comment they did not send reports it, and an official decides, with reasons.

The comment itself is evidence and stays as received (it is still counted); the report
and the decision are rows of their own, append-only, and each is logged as a case event
(`comment.attribution_reported`, `comment.attribution_decided`) with its digest, so
that the outcome is public and checkable. An upheld report shows on the comment's
receipt page that the person named did not send it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlmodel import Session, col, select

from dueprocess.contact_secrets import keyed_digest
from dueprocess.db import session_scope
from dueprocess.errors import NotFound, Refused, schema_problems
from dueprocess.journal import CaseEvent, publish
from dueprocess.rules.engine import Unmet
from dueprocess.services.identity import require_official
from dueprocess.services.payloads import canonical_sha256
from models.base import utcnow
from models.notices import AttributionDecision, AttributionReport, Comment

ARTICLE = "ACUS Recommendation 2021-1"
REPORTED, DECIDED = "comment.attribution_reported", "comment.attribution_decided"


class Outcome(StrEnum):
    UPHELD = "upheld"  # the person named did not send it
    REJECTED = "rejected"


class AttributionReportCreate(BaseModel):
    """What the person named states: their name as the comment shows it, and why."""

    name: str = Field(min_length=1, max_length=100)
    statement: str = Field(min_length=10, max_length=2000)
    confirm: bool = Field(description="I am the person named and did not send this comment")

    @field_validator("name", "statement")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return value.strip()

    @field_validator("confirm")
    @classmethod
    def _confirmed(cls, value: bool) -> bool:
        if not value:
            raise ValueError("must be confirmed: you are the person named and did not send it")
        return value


def _same_name(one: str, other: str) -> bool:
    def folded(text: str) -> str:
        return "".join(unicodedata.normalize("NFKC", text).casefold().split())
    return folded(one) == folded(other)


def report_misattribution(*, case_id: str, receipt_number: str, name: str, statement: str,
                          confirm: bool, client: str) -> AttributionReport:
    """Store and log the report of the person named; `Refused` names the field and rule."""
    try:
        request = AttributionReportCreate(name=name, statement=statement, confirm=confirm)
    except ValidationError as exc:
        raise Refused(schema_problems(exc.errors())) from exc  # type: ignore[arg-type]
    with session_scope() as session:
        comment = session.exec(select(Comment).where(
            Comment.case_id == case_id, Comment.receipt_number == receipt_number)).first()
        if comment is None or comment.id is None:
            raise NotFound(f"receipt {receipt_number} not found for case {case_id}")
        if not comment.author:
            raise Refused([Unmet("ATTR-NAMED", ARTICLE, "name: this comment shows no "
                                 "author, so it is attributed to no one")])
        if not _same_name(request.name, comment.author):
            raise Refused([Unmet("ATTR-NAMED", ARTICLE, "name: only the person the comment "
                                 "is shown as sent by can report it; give the name as shown")])
        if _open_report(session, comment.id) is not None:
            raise Refused([Unmet("ATTR-ONE-OPEN", ARTICLE, "receipt: this comment's "
                                 "attribution is already reported and awaits its outcome")])
        report = AttributionReport(
            case_id=case_id, comment_id=comment.id, name=request.name,
            statement=request.statement,
            client_digest=keyed_digest("attribution-report", client)[:64])
        session.add(report)
        session.flush()
        publish(session, CaseEvent(
            case_id=case_id, kind=REPORTED, occurred_at=report.reported_at,
            subject_id=report.id, digest=canonical_sha256(
                {"receipt": receipt_number, "name": report.name, "statement": report.statement}),
            body={"receipt": receipt_number, "report": report.id}))
        session.expunge(report)
        return report


def _open_report(session: Session, comment_id: int) -> AttributionReport | None:
    decided = select(AttributionDecision.report_id)
    return session.exec(select(AttributionReport).where(
        AttributionReport.comment_id == comment_id,
        col(AttributionReport.id).not_in(decided))).first()


def decide_misattribution(*, report_id: int, outcome: str, reason: str, decided_by: str,
                          token: str | None) -> AttributionDecision:
    """An official's outcome of a report, with reasons; stored once and logged."""
    problems = []
    if outcome not in set(Outcome):
        problems.append(Unmet("ATTR-OUTCOME", ARTICLE,
                              f"outcome: '{outcome}' is not one of upheld, rejected"))
    if len(reason.strip()) < 10:
        problems.append(Unmet("ATTR-OUTCOME", ARTICLE,
                              "reason: give the reasons of the outcome (10 characters or more)"))
    if problems:
        raise Refused(problems)
    with session_scope() as session:
        require_official(session, actor=decided_by, token=token, channel="cli",
                         rule="ATTR-OUTCOME", rules=ARTICLE,
                         may="decide an attribution report")
        report = session.get(AttributionReport, report_id)
        if report is None:
            raise NotFound(f"attribution report #{report_id} does not exist")
        if session.exec(select(AttributionDecision).where(
                AttributionDecision.report_id == report_id)).first() is not None:
            raise Refused([Unmet("ATTR-ONE-OPEN", ARTICLE, f"report: #{report_id} already "
                                 "has its outcome")])
        comment = session.get(Comment, report.comment_id)
        receipt = comment.receipt_number if comment else ""
        decision = AttributionDecision(report_id=report_id, outcome=outcome,
                                       reason=reason.strip(), decided_by=decided_by,
                                       decided_at=utcnow())
        session.add(decision)
        session.flush()
        publish(session, CaseEvent(
            case_id=report.case_id, kind=DECIDED, occurred_at=decision.decided_at,
            person=decided_by, subject_id=decision.id,
            digest=canonical_sha256({"report": report_id, "outcome": outcome,
                                     "reason": decision.reason}),
            body={"receipt": receipt, "report": report_id, "outcome": outcome}))
        session.expunge(decision)
        return decision


@dataclass(frozen=True)
class AttributionState:
    """What a comment's page shows of its attribution: the latest report and its outcome."""

    report_id: int
    reported_at: datetime
    outcome: str | None
    reason: str | None
    decided_at: datetime | None


def attribution_state(session: Session, *, comment_id: int) -> AttributionState | None:
    row = session.exec(select(AttributionReport, AttributionDecision).outerjoin(
        AttributionDecision, col(AttributionDecision.report_id) == AttributionReport.id,
    ).where(AttributionReport.comment_id == comment_id)
        .order_by(col(AttributionReport.id).desc())).first()
    if row is None:
        return None
    report, decision = row
    return AttributionState(
        report_id=report.id or 0, reported_at=report.reported_at,
        outcome=decision.outcome if decision else None,
        reason=decision.reason if decision else None,
        decided_at=decision.decided_at if decision else None)
