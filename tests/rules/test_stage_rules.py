"""Each stage rule: one case it blocks, one it lets pass. Messages name the article."""

from __future__ import annotations

from typing import Any

import pytest

from dueprocess.demo import submissions
from dueprocess.rules import evaluate_gate, evidence_problems
from tests.rules.conftest import NOW, FactsFactory

UPSTREAM = ("public_participation", "expert_review", "risk_assessment")


def problems_for(make_facts: FactsFactory, stage: str, payload: dict[str, Any]) -> set[str]:
    facts = make_facts(completed=UPSTREAM if stage == "legality_review" else ())
    model = facts.procedure.stage(stage).stage_kind.evidence.model_validate(payload)
    return {p.rule for p in evidence_problems(facts, stage, model, NOW)}


def gate_rules(make_facts: FactsFactory, stage: str, payload: dict[str, Any],
               completed: tuple[str, ...] = ()) -> set[str]:
    facts = make_facts(completed=completed, evidence=((stage, payload),))
    return {u.rule for u in evaluate_gate(facts, stage, NOW).unmet}


def test_short_comment_window_without_reason_is_refused(make_facts: FactsFactory) -> None:
    assert problems_for(make_facts, "public_participation",
                        submissions.PARTICIPATION_SHORT_WINDOW) == {"PP-WINDOW-LENGTH"}


def test_short_comment_window_with_reason_passes(make_facts: FactsFactory) -> None:
    payload = {**submissions.PARTICIPATION_SHORT_WINDOW, "shortened_reason": "Flood season"}
    assert problems_for(make_facts, "public_participation", payload) == set()


def test_thirty_day_window_passes(make_facts: FactsFactory) -> None:
    payload = {**submissions.PARTICIPATION, "window_opens": "2026-09-01",
               "window_closes": "2026-10-01"}
    assert problems_for(make_facts, "public_participation", payload) == set()


def test_open_comment_window_blocks_the_gate(make_facts: FactsFactory) -> None:
    payload = {**submissions.PARTICIPATION, "window_opens": "2026-11-01",
               "window_closes": "2026-12-15"}
    assert gate_rules(make_facts, "public_participation", payload) == {"PP-WINDOW-CLOSED"}
    assert gate_rules(make_facts, "public_participation", submissions.PARTICIPATION) == set()


def test_blank_adoption_statement_is_refused(make_facts: FactsFactory) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="adoption_statement"):
        problems_for(make_facts, "public_participation",
                     {**submissions.PARTICIPATION, "adoption_statement": "   "})


def test_expert_with_direct_interest_is_refused(make_facts: FactsFactory) -> None:
    opinion = {**submissions.EXPERTS["prof.zhang"], "direct_interest": True}
    assert problems_for(make_facts, "expert_review", opinion) == {"EX-NO-DIRECT-INTEREST"}
    assert problems_for(make_facts, "expert_review", submissions.EXPERTS["prof.zhang"]) == set()


def test_expert_panel_needs_three_opinions(make_facts: FactsFactory) -> None:
    one = make_facts(evidence=(("expert_review", submissions.EXPERTS["prof.zhang"],
                                "prof.zhang"),))
    [unmet] = evaluate_gate(one, "expert_review", NOW).unmet
    assert unmet.rule == "EX-PANEL-SIZE" and "1 of at least 3" in unmet.message
    three = make_facts(evidence=tuple(
        ("expert_review", opinion, handle) for handle, opinion in submissions.EXPERTS.items()
    ))
    assert evaluate_gate(three, "expert_review", NOW).open


def test_uncontrollable_risk_blocks_until_reassessed(make_facts: FactsFactory) -> None:
    risky = {**submissions.RISK, "controllable": False}
    assert gate_rules(make_facts, "risk_assessment", risky) == {"RA-CONTROLLABLE"}
    facts = make_facts(evidence=(("risk_assessment", risky), ("risk_assessment", submissions.RISK)))
    assert evaluate_gate(facts, "risk_assessment", NOW).open


@pytest.mark.parametrize("outcome", ["unlawful", "revise"])
def test_legality_review_must_find_the_draft_lawful(
    make_facts: FactsFactory, outcome: str
) -> None:
    payload = {**submissions.LEGALITY, "outcome": outcome}
    assert gate_rules(make_facts, "legality_review", payload, UPSTREAM) == {"LR-LAWFUL"}
    assert gate_rules(make_facts, "legality_review", submissions.LEGALITY, UPSTREAM) == set()


def test_exploratory_reform_needs_the_legal_risk_stated(make_facts: FactsFactory) -> None:
    bare = {**submissions.LEGALITY, "outcome": "exploratory_reform"}
    assert problems_for(make_facts, "legality_review", bare) == {"LR-EXPLORATORY-RISK"}
    stated = {**bare, "legal_risk_statement": "National rules are silent on zone pricing."}
    assert problems_for(make_facts, "legality_review", stated) == set()
    assert gate_rules(make_facts, "legality_review", stated, UPSTREAM) == set()


def test_dissent_must_be_recorded(make_facts: FactsFactory) -> None:
    silent = {**submissions.MEETING, "dissent": []}
    assert problems_for(make_facts, "collective_decision", silent) == {"CD-DISSENT-RECORDED"}
    assert problems_for(make_facts, "collective_decision", submissions.MEETING) == set()


def test_head_must_be_present(make_facts: FactsFactory) -> None:
    absent = {**submissions.MEETING, "head": "Mayor Nobody"}
    assert problems_for(make_facts, "collective_decision", absent) == {"CD-HEAD-DECIDES"}


def test_deferred_meeting_does_not_decide(make_facts: FactsFactory) -> None:
    upstream = (*UPSTREAM, "legality_review")
    deferred = {**submissions.MEETING, "head_decision": "defer"}
    assert gate_rules(make_facts, "collective_decision", deferred, upstream) == {"CD-DECIDED"}
    assert gate_rules(make_facts, "collective_decision", submissions.MEETING, upstream) == set()


def test_publication_needs_an_official_channel(make_facts: FactsFactory) -> None:
    media_only = {**submissions.PUBLICATION, "channels": ["media"]}
    assert problems_for(make_facts, "publication", media_only) == {"PB-OFFICIAL-CHANNEL"}
    assert problems_for(make_facts, "publication", submissions.PUBLICATION) == set()
