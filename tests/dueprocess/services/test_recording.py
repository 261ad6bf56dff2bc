"""Recording evidence: every bad input is refused by name, and nothing is stored."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import func, select

from dueprocess.db import session_scope
from dueprocess.demo import submissions
from dueprocess.errors import NotFound, Refused
from dueprocess.services.case_view import case_view
from dueprocess.services.progress import advance_case
from dueprocess.services.recording import record_evidence, record_submission
from dueprocess.settings import get_settings
from models.evidence import Document, EvidenceItem, Refusal
from tests.support import VALID_STEPS, advance_to_step, form_code_for, record_steps, token_for


@pytest.fixture
def case_id(open_demo_case: Any) -> str:
    """A demo case on the day of its risk assessment (case clock): the report's typed
    dates have happened."""
    case: str = open_demo_case()
    advance_to_step(case, "risk_assessment")
    return case


def evidence_count(case_id: str) -> int:
    with session_scope() as session:
        return session.exec(
            select(func.count()).select_from(EvidenceItem).where(EvidenceItem.case_id == case_id)
        ).one()


def refused(case_id: str, **kwargs: Any) -> Refused:
    before = evidence_count(case_id)
    with pytest.raises(Refused) as info:
        record_evidence(case_id=case_id, channel="test", **kwargs,
                        token=token_for(kwargs["recorded_by"]))
    assert evidence_count(case_id) == before, "a refused submission stored evidence"
    return info.value


def test_valid_evidence_is_stored_with_its_digest(case_id: str) -> None:
    item = record_evidence(case_id=case_id, stage_key="risk_assessment", recorded_by="liu.yang",
                           evidence=submissions.RISK, channel="test", token=token_for("liu.yang"))
    assert item.id and len(item.payload_sha256) == 64 and item.draft_version == 1
    assert evidence_count(case_id) == 1


def test_unknown_case_is_named() -> None:
    with pytest.raises(NotFound, match="case 'dp-0000-nocase' not found"):
        record_evidence(case_id="dp-0000-nocase", stage_key="risk_assessment",
                        recorded_by="liu.yang", evidence=submissions.RISK, channel="test",
                        token=token_for("liu.yang"))


def test_unknown_stage_is_named(case_id: str) -> None:
    error = refused(case_id, stage_key="horoscope", recorded_by="liu.yang",
                    evidence=submissions.RISK)
    assert "unknown stage 'horoscope'" in str(error)


def test_skipping_to_legality_review_is_refused_and_audited(case_id: str) -> None:
    error = refused(case_id, stage_key="legality_review", recorded_by="sun.hao",
                    evidence=submissions.LEGALITY)
    assert [p.rule for p in error.problems] == ["STAGE-ORDER"]
    with session_scope() as session:
        audit = session.get(Refusal, error.refusal_id)
        assert audit is not None and audit.submitted_by == "sun.hao"
        assert audit.reasons[0]["rule"] == "STAGE-ORDER"


def test_person_not_assigned_is_refused(case_id: str) -> None:
    error = refused(case_id, stage_key="risk_assessment", recorded_by="sun.hao",
                    evidence=submissions.RISK)
    assert "'sun.hao' is not assigned to stage 'risk_assessment'" in str(error)


def test_missing_and_malformed_fields_are_named(case_id: str) -> None:
    payload = {k: v for k, v in submissions.RISK.items() if k != "response_plan"}
    payload["assessed_on"] = "next tuesday"
    error = refused(case_id, stage_key="risk_assessment", recorded_by="liu.yang",
                    evidence=payload)
    messages = str(error)
    assert "evidence.response_plan: Field required" in messages
    assert "evidence.assessed_on" in messages


def test_document_over_the_size_limit_is_refused(case_id: str) -> None:
    limit = get_settings().max_document_bytes
    big = base64.b64encode(b"x" * (limit + 1)).decode()
    payload = {**submissions.RISK,
               "documents": [{"filename": "report.pdf", "content_base64": big}]}
    error = refused(case_id, stage_key="risk_assessment", recorded_by="liu.yang",
                    evidence=payload)
    assert [p.rule for p in error.problems] == ["DOCUMENT-SIZE"]
    assert "documents.0.content_base64" in str(error) and str(limit) in str(error)


def test_document_is_stored_by_digest(case_id: str) -> None:
    content = b"%PDF-1.7 risk report"
    payload = {**submissions.RISK, "documents": [
        {"filename": "report.pdf", "content_base64": base64.b64encode(content).decode()}]}
    item = record_evidence(case_id=case_id, stage_key="risk_assessment",
                           recorded_by="liu.yang", evidence=payload, channel="test",
                           token=token_for("liu.yang"))
    [reference] = item.payload["documents"]
    with session_scope() as session:
        stored = session.get(Document, reference["sha256"])
        assert stored is not None and stored.content == content


def test_same_key_same_content_is_stored_once(case_id: str) -> None:
    first = record_evidence(case_id=case_id, stage_key="risk_assessment", recorded_by="liu.yang",
                            evidence=submissions.RISK, idempotency_key="k-1", channel="test",
                            token=token_for("liu.yang"))
    again = record_evidence(case_id=case_id, stage_key="risk_assessment", recorded_by="liu.yang",
                            evidence=submissions.RISK, idempotency_key="k-1", channel="test",
                            token=token_for("liu.yang"))
    assert again.id == first.id and evidence_count(case_id) == 1


def test_same_key_different_content_is_refused(case_id: str) -> None:
    record_evidence(case_id=case_id, stage_key="risk_assessment", recorded_by="liu.yang",
                    evidence=submissions.RISK, idempotency_key="k-2", channel="test",
                    token=token_for("liu.yang"))
    error = refused(case_id, stage_key="risk_assessment", recorded_by="liu.yang",
                    evidence={**submissions.RISK, "level": "high"}, idempotency_key="k-2")
    assert [p.rule for p in error.problems] == ["IDEMPOTENCY-KEY"]


def test_form_submission_must_fill_exactly_one_stage(case_id: str) -> None:
    with pytest.raises(Refused, match="exactly one stage section"):
        record_submission(case_id=case_id, channel="test", default_key="form-1", raw={
            "recorded_by": "liu.yang", "risk_assessment": submissions.RISK,
            "public_participation": submissions.PARTICIPATION,
        })
    item = record_submission(case_id=case_id, channel="prefect-form", default_key="form-2", raw={
        "recorded_by": "liu.yang", "risk_assessment": submissions.RISK,
        "public_participation": None,
        "proof": form_code_for(case_id, "risk_assessment", "liu.yang", submissions.RISK),
    })
    assert item.stage_key == "risk_assessment" and item.idempotency_key == "form-2"


def test_hand_edited_evidence_row_blocks_the_gate(case_id: str) -> None:
    item = record_evidence(case_id=case_id, stage_key="risk_assessment", recorded_by="liu.yang",
                           evidence={**submissions.RISK, "controllable": False}, channel="test",
                           token=token_for("liu.yang"))
    from tests.dueprocess.ledger.test_support import triggers_dropped

    # What an insider with database access might do to force the gate open: the
    # append-only triggers refuse the UPDATE, so they drop them first.
    def set_payload(payload: dict[str, Any]) -> None:
        with session_scope() as session, triggers_dropped(session, "evidenceitem"):
            session.connection().execute(
                text("UPDATE evidenceitem SET payload = :payload WHERE id = :id"),
                {"payload": json.dumps(payload), "id": item.id},
            )

    set_payload({**item.payload, "controllable": True})
    try:
        progress = advance_case(case_id=case_id)
        assert "risk_assessment" in progress.open_stages
        rules = {u.rule for u in progress.blocked["risk_assessment"]}
        assert rules == {"EVIDENCE-INTEGRITY"}
        view = case_view(case_id)
        risk = next(s for s in view.stages if s.key == "risk_assessment")
        assert f"#{item.id}" in str(risk.blocked[0])
    finally:
        # The session database is shared: later tests verify the whole log.
        set_payload(item.payload)


def test_full_procedure_decides_once(open_demo_case: Any) -> None:
    case_id = open_demo_case()
    record_steps(case_id, VALID_STEPS)
    view = case_view(case_id)
    assert view.case.status.value == "closed"
    assert view.decision is not None and view.decision.outcome == "approve"
    assert all(stage.status.value == "completed" for stage in view.stages)


def test_a_typed_date_the_case_clock_has_not_reached_is_refused_then_a_correct_one_passes(
    case_id: str,
) -> None:
    # The case clock reads 2026-10-15 (the risk report's day); a report "assessed" on the
    # 20th, or before the case was opened on 2026-09-01, is a declaration nobody witnessed.
    for assessed_on, says in (("2026-10-20", "is in the future"),
                              ("2026-08-31", "is before the case was opened on 2026-09-01")):
        error = refused(case_id, stage_key="risk_assessment", recorded_by="liu.yang",
                        evidence={**submissions.RISK, "assessed_on": assessed_on})
        [problem] = error.problems
        assert (problem.rule, problem.article) == ("EV-DATE-WITNESSED", "Decree 713 Art. 22–24")
        assert says in problem.message and error.refusal_id is not None
    item = record_evidence(case_id=case_id, stage_key="risk_assessment", recorded_by="liu.yang",
                           evidence=submissions.RISK, channel="test", token=token_for("liu.yang"))
    assert item.id is not None


def test_a_publication_without_the_adoption_explanation_names_art_32(
    open_demo_case: Any,
) -> None:
    case_id = open_demo_case()
    record_steps(case_id, [s for s in VALID_STEPS if s[0] != "publication"])
    advance_to_step(case_id, "publication")
    evidence = {k: v for k, v in submissions.PUBLICATION.items() if k != "adoption_explanation"}
    error = refused(case_id, stage_key="publication", recorded_by="qian.yu", evidence=evidence)
    assert [(p.rule, p.article) for p in error.problems] == [("PB-ADOPTION-EXPLAINED", "Art. 32")]
    assert "adoption_explanation" in error.problems[0].message


def test_a_later_opinion_on_the_draft_found_unlawful_does_not_count(
    open_demo_case: Any,
) -> None:
    case_id = open_demo_case()
    record_steps(case_id, [s for s in VALID_STEPS if s[0] in (
        "public_participation", "expert_review", "risk_assessment")])
    record_steps(case_id, [("legality_review", "sun.hao",
                            {**submissions.LEGALITY, "outcome": "unlawful"})])
    error = refused(case_id, stage_key="legality_review", recorded_by="sun.hao",
                    evidence=submissions.LEGALITY)
    assert [p.rule for p in error.problems] == ["LR-REVISED-DRAFT"]
    assert "only a review of a revised draft (v2 or later) counts" in str(error)
