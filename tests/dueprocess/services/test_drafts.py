"""Draft versions: evidence bound to its draft, revisions reopen the procedure as defined,
and "not controllable" sends the case back until the revised draft is reassessed."""

from __future__ import annotations

import pytest
from sqlmodel import select

from dueprocess.db import session_scope
from dueprocess.demo import submissions
from dueprocess.errors import Refused
from dueprocess.services.archive import case_archive
from dueprocess.services.audited_actions import revise_draft_as
from dueprocess.services.case_view import case_view
from dueprocess.services.progress import advance_case
from dueprocess.services.recording import record_evidence
from models.cases import DraftRevise, DraftVersion, text_sha256
from models.decisions import Decision
from models.evidence import EvidenceItem, Refusal
from tests.support import (
    VALID_STEPS,
    advance_to_step,
    published_events,
    record_steps,
    token_for,
    watch_events,
)

UPSTREAM = [s for s in VALID_STEPS if s[0] in
            ("public_participation", "expert_review", "risk_assessment")]
REVISED = DraftRevise(title="Notice on parking fees (revised)", reason="risk not controllable",
                      text="1. Peak-hour parking in zone A is charged 8 yuan per hour.\n")


def statuses(case_id: str) -> dict[str, str]:
    return {s.key: s.status.value for s in case_view(case_id).stages}


def test_not_controllable_sends_the_case_back_until_the_revised_draft_is_reassessed(
    case_id: str,
) -> None:
    watch_events()
    risky = {**submissions.RISK, "controllable": False}
    record_steps(case_id, [s for s in UPSTREAM if s[0] != "risk_assessment"])
    advance_to_step(case_id, "risk_assessment")
    item = record_evidence(case_id=case_id, stage_key="risk_assessment",
                           recorded_by="liu.yang", evidence=risky, channel="test",
                           token=token_for("liu.yang"))
    [sent_back] = [e for e in published_events(case_id) if e.kind == "case.sent_back"]
    assert sent_back.subject_id == item.id
    assert sent_back.body["reasons"][0]["rule"] == "RA-CONTROLLABLE"
    # Reassessing the same draft does not open the gate: the draft must change first.
    record_evidence(case_id=case_id, stage_key="risk_assessment", recorded_by="liu.yang",
                    evidence=submissions.RISK, channel="test", token=token_for("liu.yang"))
    progress = advance_case(case_id=case_id)
    assert [u.rule for u in progress.blocked["risk_assessment"]] == [
        "RA-REASSESSED-ON-REVISED-DRAFT"]
    draft = revise_draft_as(case_id=case_id, revision=REVISED, actor="wang.fang",
                            channel="test", token=token_for("wang.fang"))
    assert (draft.version, draft.sha256) == (2, text_sha256(REVISED.text))
    progress = advance_case(case_id=case_id)
    [unmet] = progress.blocked["risk_assessment"]
    assert unmet.rule == "EVIDENCE-PRESENT" and "current draft v2" in unmet.message
    reassessed = record_evidence(case_id=case_id, stage_key="risk_assessment",
                                 recorded_by="liu.yang", evidence=submissions.RISK,
                                 channel="test", token=token_for("liu.yang"))
    assert reassessed.draft_version == 2
    record_steps(case_id, [s for s in VALID_STEPS if s[0] in (
        "legality_review", "collective_decision", "publication")])
    view = case_view(case_id)
    assert view.case.status.value == "closed"
    with session_scope() as session:
        decision = session.exec(select(Decision).where(Decision.case_id == case_id)).one()
    assert decision.draft_version == 2


def test_a_revision_reopens_the_stages_the_procedure_names(case_id: str) -> None:
    watch_events()
    record_steps(case_id, UPSTREAM)
    assert statuses(case_id)["legality_review"] == "open"
    revise_draft_as(case_id=case_id, revision=REVISED, actor="wang.fang", channel="test",
                    token=token_for("wang.fang"))
    assert statuses(case_id) == {
        "public_participation": "completed", "expert_review": "completed",  # not reopened
        "risk_assessment": "open", "legality_review": "pending",
        "collective_decision": "pending", "publication": "pending",
    }
    events = published_events(case_id)
    [revised] = [e for e in events if e.kind == "draft.revised"]
    assert revised.body["reopened"] == ["legality_review", "risk_assessment"]
    assert revised.digest == text_sha256(REVISED.text)
    reopened = {e.stage_key: e.body for e in events if e.kind == "stage.reopened"}
    assert reopened["risk_assessment"] == {"from": "completed", "to": "open",
                                           "draft_version": 2}
    assert reopened["legality_review"]["to"] == "pending"
    # Evidence recorded now is bound to the revised draft.
    item = record_evidence(case_id=case_id, stage_key="risk_assessment",
                           recorded_by="liu.yang", evidence=submissions.RISK, channel="test",
                           token=token_for("liu.yang"))
    assert item.draft_version == 2


def test_only_the_undertaking_unit_revises_and_refusals_are_audited(case_id: str) -> None:
    with pytest.raises(Refused) as info:
        revise_draft_as(case_id=case_id, revision=REVISED, actor="sun.hao", channel="test",
                        token=token_for("sun.hao"))
    assert [p.rule for p in info.value.problems] == ["UNDERTAKING-OFFICIAL"]
    with session_scope() as session:
        audit = session.get(Refusal, info.value.refusal_id)
        assert audit is not None and audit.submitted_by == "sun.hao"
        assert audit.reasons[0]["action"] == "revision"
        assert audit.reasons[0]["rule"] == "UNDERTAKING-OFFICIAL"
        versions = session.exec(select(DraftVersion).where(DraftVersion.case_id == case_id))
        assert [d.version for d in versions] == [1]


def test_an_unchanged_text_is_not_a_revision(case_id: str) -> None:
    with session_scope() as session:
        first = session.exec(select(DraftVersion).where(DraftVersion.case_id == case_id)).one()
    same = DraftRevise(title="Same", text=first.text, reason="no change")
    with pytest.raises(Refused, match="DRAFT-CHANGED"):
        revise_draft_as(case_id=case_id, revision=same, actor="wang.fang", channel="test",
                        token=token_for("wang.fang"))


def test_a_decided_case_is_not_revised(case_id: str) -> None:
    record_steps(case_id, VALID_STEPS[:-1])
    with pytest.raises(Refused, match=r"\[NOT-DECIDED, Art. 35\]"):
        revise_draft_as(case_id=case_id, revision=REVISED, actor="wang.fang", channel="test",
                        token=token_for("wang.fang"))


def test_the_archive_shows_each_draft_with_its_hash_and_what_still_counts(
    case_id: str,
) -> None:
    record_steps(case_id, UPSTREAM)
    revise_draft_as(case_id=case_id, revision=REVISED, actor="wang.fang", channel="test",
                    token=token_for("wang.fang"))
    archive = case_archive(case_id)
    assert [(d.version, d.intact) for d in archive.drafts] == [(1, True), (2, True)]
    assert archive.drafts[1].sha256 == text_sha256(REVISED.text)
    assert archive.drafts[1].reason == "risk not controllable"
    risk = next(s for s in archive.stages if s.key == "risk_assessment")
    assert [(e.draft_version, e.counts) for e in risk.evidence] == [(1, False)]
    assert archive.risk_level is None  # no assessment of the current draft yet
    assert "stage 'risk_assessment' has no materials in the archive" in archive.missing
    with session_scope() as session:
        stored = session.exec(select(EvidenceItem).where(EvidenceItem.case_id == case_id,
                                                         EvidenceItem.stage_key ==
                                                         "risk_assessment")).one()
    assert risk.evidence[0].sha256 == stored.payload_sha256
