"""What each notice says: the template context, gathered from the case database.

Contexts hold plain values only (strings, numbers, lists), so templates cannot reach
into the database or call methods on models.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlmodel import Session, col, select

from dueprocess.clock import closing_time, last_day, local_date
from dueprocess.rules.facts import CaseFacts
from dueprocess.services.case_snapshot import load_facts
from dueprocess.settings import get_notify_settings, get_settings
from models.cases import DecisionCase, DraftVersion
from models.decisions import Decision
from models.evidence import EvidenceItem
from models.evidence_schemas import (
    ExpertOpinionEvidence,
    LegalityReviewEvidence,
    PublicationEvidence,
    PublicParticipationEvidence,
    RiskAssessmentEvidence,
)
from models.notices import CommentWindow
from models.people import Assignment, Person
from models.procedure import ProcedureDefinition

T = TypeVar("T", bound=BaseModel)


def _day(value: datetime) -> str:
    return value.date().isoformat()


def case_url(case_id: str) -> str:
    return f"{get_notify_settings().portal_url.rstrip('/')}/cases/{case_id}"


def item_url(item_id: int) -> str:
    return f"{get_notify_settings().portal_url.rstrip('/')}/programme/items/{item_id}"


def evaluation_url(case_id: str) -> str:
    return f"{get_notify_settings().portal_url.rstrip('/')}/programme/evaluations/{case_id}"


def case_context(case: DecisionCase) -> dict[str, Any]:
    return {
        "case": {"id": case.id, "title": case.title, "summary": case.summary,
                 "organ": case.organ, "undertaking_unit": case.undertaking_unit,
                 "legal_basis": list(case.legal_basis)},
        "case_url": case_url(case.id),
    }


def latest_draft(session: Session, case_id: str) -> DraftVersion:
    return session.exec(
        select(DraftVersion).where(DraftVersion.case_id == case_id)
        .order_by(col(DraftVersion.version).desc())
    ).first()  # type: ignore[return-value]  # every case has draft version 1


def call_for_comments(
    session: Session, case: DecisionCase, consultation: CommentWindow
) -> dict[str, Any]:
    draft = latest_draft(session, case.id)
    zone = get_settings().case_timezone
    opens_on = local_date(consultation.opens_at, zone)
    closes_on = last_day(consultation.closes_at, zone)
    return {
        **case_context(case),
        "draft": {"title": draft.title, "text": draft.text, "version": draft.version,
                  "sha256": draft.sha256},
        "consultation": {
            "opens_on": opens_on.isoformat(), "closes_on": closes_on.isoformat(),
            "days": (closes_on - opens_on).days,
            # The exact close: 24:00 of the last day, in the case's time zone.
            "closes_at": {language: closing_time(consultation.closes_at, zone, language)
                          for language in ("zh-CN", "en")},
            "shortened_reason": consultation.shortened_reason,
        },
    }


def reviewers(session: Session, case_id: str, stage_key: str) -> list[str]:
    rows = session.exec(
        select(Person.name, Person.handle).join(Assignment, col(Assignment.person_id) == Person.id)
        .where(Assignment.case_id == case_id, Assignment.stage_key == stage_key)
        .order_by(col(Person.handle))
    )
    return [f"{name} ({handle})" for name, handle in rows]


def stage_notice(
    session: Session, case: DecisionCase, stage_key: str, deadline: datetime | None
) -> dict[str, Any]:
    definition = ProcedureDefinition.model_validate(case.procedure).stage(stage_key)
    return {
        **case_context(case),
        "stage": {"key": stage_key, "kind": definition.kind, "title": definition.title,
                  "articles": definition.articles,
                  "reviewers": reviewers(session, case.id, stage_key),
                  "deadline": _day(deadline) if deadline else "—"},
    }


def _current(facts: CaseFacts, kind: str, schema: type[T]) -> list[T]:
    """The evidence the gates judge for every stage of `kind`, as its schema type."""
    items: list[T] = []
    for stage in facts.procedure.stages:
        if stage.kind == kind:
            items += [e.evidence for e in facts.current_evidence(stage.key)
                      if isinstance(e.evidence, schema)]
    return items


def decision_announcement(session: Session, case: DecisionCase) -> dict[str, Any] | None:
    """The announcement context, or None while something it must state is missing."""
    decision = session.exec(select(Decision).where(Decision.case_id == case.id)).first()
    facts = load_facts(session, case)
    participation = _current(facts, "public_participation", PublicParticipationEvidence)
    experts = _current(facts, "expert_review", ExpertOpinionEvidence)
    risk = _current(facts, "risk_assessment", RiskAssessmentEvidence)
    legality = _current(facts, "legality_review", LegalityReviewEvidence)
    publication = _current(facts, "publication", PublicationEvidence)
    if decision is None or not (participation and risk and legality and publication):
        return None
    stages = {s.key: {"key": s.key, "kind": s.kind, "title": s.title}
              for s in facts.procedure.stages}
    evidence = session.exec(
        select(EvidenceItem).where(EvidenceItem.case_id == case.id).order_by(col(EvidenceItem.id))
    )
    p, r, lg, pub = participation[-1], risk[-1], legality[-1], publication[-1]
    return {
        **case_context(case),
        "decision": {"outcome": decision.outcome, "text": decision.text,
                     "decided_by": decision.decided_by, "decided_on": decision.decided_on},
        "participation": {"opinions_received": p.opinions_received,
                          "adoption_statement": p.adoption_statement},
        "experts": {"count": len(experts),
                    "conclusions": dict(Counter(e.conclusion for e in experts))},
        "risk": {"controllable": r.controllable, "level": r.level},
        "legality": {"outcome": lg.outcome},
        "publication": {"url": str(pub.url), "published_on": pub.published_on.isoformat(),
                        "adoption_explanation": pub.adoption_explanation},
        "evidence": [{"id": e.id, "stage": stages.get(e.stage_key, {"key": e.stage_key,
                                                                     "title": e.stage_key}),
                      "sha256": e.payload_sha256} for e in evidence],
    }
