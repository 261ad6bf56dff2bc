"""Separation of duties at assignment: an interested expert, an expert or a legal reviewer
from the undertaking unit are never assigned; declarations and the panel note."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlmodel import select

from dueprocess.db import session_scope
from dueprocess.demo import submissions
from dueprocess.errors import Refused
from dueprocess.services.audited_actions import assign_as, declare_interest_as, record_panel_note_as
from dueprocess.services.cases import register_person
from dueprocess.services.progress import advance_case
from dueprocess.services.recording import record_evidence
from models.evidence import Refusal
from models.people import InterestDeclarationCreate, PersonCreate, Role
from tests.support import advance_to_step, demo_case_data, open_case_data, token_for


@pytest.fixture
def case_id(open_demo_case: Any) -> str:
    """A demo case on the day its experts sign (case clock)."""
    case: str = open_demo_case()
    advance_to_step(case, "expert_review")
    return case

INTERESTED = {"direct_interest": True, "interests": "Shareholder of the parking operator",
              "declared_on": "2026-09-05"}


def opening_refused(data: dict[str, object]) -> Refused:
    with pytest.raises(Refused) as info:
        open_case_data(data)
    return info.value


def test_an_expert_who_declared_a_direct_interest_is_not_assigned() -> None:
    data = demo_case_data()
    data["expert_panels"]["expert_review"]["declarations"]["dr.zhou"] = INTERESTED
    refused = opening_refused(data)
    assert [p.rule for p in refused.problems] == ["EX-INTEREST-EXCLUDED"]
    assert "'dr.zhou' declared a direct interest (Shareholder" in str(refused)


def test_the_undertaking_unit_cannot_do_the_legality_review() -> None:
    data = demo_case_data()
    data["people"].append({"handle": "fang.lu", "name": "Fang Lu", "role": "legal_reviewer",
                           "unit": data["undertaking_unit"]})
    data["assignments"]["legality_review"] = ["fang.lu"]
    refused = opening_refused(data)
    assert [p.rule for p in refused.problems] == ["LR-NOT-UNDERTAKING-UNIT"]
    assert "Art. 25" in str(refused)


def test_an_expert_from_the_undertaking_unit_is_not_independent() -> None:
    data = demo_case_data()
    data["people"].append({"handle": "yan.bo", "name": "Yan Bo", "role": "expert",
                           "unit": data["undertaking_unit"]})
    data["assignments"]["expert_review"].append("yan.bo")
    assert [p.rule for p in opening_refused(data).problems] == ["EX-INDEPENDENT"]


def test_an_undeclared_expert_may_be_assigned_but_records_only_after_declaring() -> None:
    data = demo_case_data()
    del data["expert_panels"]["expert_review"]["declarations"]["prof.chen"]
    case_id = open_case_data(data)
    advance_case(case_id=case_id)
    advance_to_step(case_id, "expert_review")
    opinion = submissions.EXPERTS["prof.chen"]
    with pytest.raises(Refused, match=r"\[EX-INTEREST-DECLARED, Art. 20\]"):
        record_evidence(case_id=case_id, stage_key="expert_review", recorded_by="prof.chen",
                        evidence=opinion, channel="test", token=token_for("prof.chen"))
    with pytest.raises(Refused, match=r"\[DECLARANT, Art. 20\]"):
        declare_interest_as(case_id=case_id, stage_key="expert_review", handle="prof.chen",
                            actor="li.wei", channel="test", declaration=InterestDeclarationCreate(
                                direct_interest=False, interests="none",
                                declared_on=date(2026, 9, 7)), token=token_for("li.wei"))
    declare_interest_as(case_id=case_id, stage_key="expert_review", handle="prof.chen",
                        actor="prof.chen", channel="test", declaration=InterestDeclarationCreate(
                            direct_interest=False, interests="none",
                            declared_on=date(2026, 9, 7)), token=token_for("prof.chen"))
    item = record_evidence(case_id=case_id, stage_key="expert_review", recorded_by="prof.chen",
                           evidence=opinion, channel="test", token=token_for("prof.chen"))
    assert item.recorded_by == "prof.chen"


def test_a_later_declaration_of_interest_excludes_the_opinion(case_id: str) -> None:
    record_evidence(case_id=case_id, stage_key="expert_review", recorded_by="dr.zhou",
                    evidence=submissions.EXPERTS["dr.zhou"], channel="test",
                    token=token_for("dr.zhou"))
    declare_interest_as(case_id=case_id, stage_key="expert_review", handle="dr.zhou",
                        actor="dr.zhou", channel="test",
                        declaration=InterestDeclarationCreate.model_validate(INTERESTED),
                                                                             token=token_for("dr.zhou"))
    blocked = advance_case(case_id=case_id).blocked["expert_review"]
    assert "EX-INTEREST-EXCLUDED" in {u.rule for u in blocked}


def test_assigning_later_applies_the_same_rules_and_audits_refusals(case_id: str) -> None:
    with session_scope() as session:
        register_person(session, PersonCreate(handle="wu.jing", name="Wu Jing", role=Role.EXPERT,
                                              unit="Peking University"))
    with pytest.raises(Refused, match="ASSIGNER") as info:
        assign_as(case_id=case_id, stage_key="expert_review", handle="wu.jing",
                  actor="prof.zhang", channel="test", token=token_for("prof.zhang"))
    with session_scope() as session:
        audit = session.get(Refusal, info.value.refusal_id)
        assert audit is not None and audit.submitted_by == "prof.zhang"
        assert audit.stage_key == "expert_review"
        assert audit.reasons[0]["action"] == "assignment"
    declare_interest_as(case_id=case_id, stage_key="expert_review", handle="wu.jing",
                        actor="wang.fang", channel="test",
                        declaration=InterestDeclarationCreate.model_validate(INTERESTED),
                        token=token_for("wang.fang"))
    with pytest.raises(Refused, match="EX-INTEREST-EXCLUDED"):
        assign_as(case_id=case_id, stage_key="expert_review", handle="wu.jing",
                  actor="wang.fang", channel="test", token=token_for("wang.fang"))
    with session_scope() as session:
        refusals = session.exec(select(Refusal).where(Refusal.case_id == case_id)).all()
    assert [r.reasons[0]["rule"] for r in refusals] == ["ASSIGNER",
                                                        "EX-INTEREST-EXCLUDED"]


def test_the_panel_note_comes_from_the_undertaking_unit() -> None:
    data = demo_case_data()
    del data["expert_panels"]["expert_review"]["composition_note"]
    case_id = open_case_data(data)
    advance_case(case_id=case_id)
    advance_to_step(case_id, "expert_review")
    for handle, opinion in submissions.EXPERTS.items():
        record_evidence(case_id=case_id, stage_key="expert_review", recorded_by=handle,
                        evidence=opinion, channel="test", token=token_for(handle))
    blocked = advance_case(case_id=case_id).blocked["expert_review"]
    assert [u.rule for u in blocked] == ["EX-PANEL-NOTE"]
    with pytest.raises(Refused, match="UNDERTAKING-OFFICIAL"):
        record_panel_note_as(case_id=case_id, stage_key="expert_review", text="Balanced.",
                             actor="prof.zhang", channel="test", token=token_for("prof.zhang"))
    record_panel_note_as(case_id=case_id, stage_key="expert_review", actor="wang.fang",
                         channel="test", text="An advocate, an engineer and a critic.",
                         token=token_for("wang.fang"))
    assert "expert_review" not in advance_case(case_id=case_id).blocked
