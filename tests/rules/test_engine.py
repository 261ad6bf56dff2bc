"""The rule engine's common requirements: order, evidence present, assigned recorder."""

from __future__ import annotations

from dataclasses import replace

from dueprocess.demo import submissions
from dueprocess.rules import StageFacts, admission_problems, evaluate_gate, ready_stages
from dueprocess.rules.engine import RULES
from models.stages import StageStatus
from tests.rules.conftest import NOW, FactsFactory


def rules_of(result: object) -> set[str]:
    return {u.rule for u in result.unmet}  # type: ignore[attr-defined]


def test_ready_stages_follow_the_dependency_order(make_facts: FactsFactory) -> None:
    facts = make_facts()
    pending = {k: StageFacts(StageStatus.PENDING) for k in facts.stages}
    assert ready_stages(replace(facts, stages=pending)) == [
        "public_participation", "expert_review", "risk_assessment"
    ]
    done = {**pending, **{k: StageFacts(StageStatus.COMPLETED) for k in (
        "public_participation", "expert_review", "risk_assessment")}}
    assert ready_stages(replace(facts, stages=done)) == ["legality_review"]
    partial = {**done, "expert_review": StageFacts(StageStatus.OPEN)}
    assert ready_stages(replace(facts, stages=partial)) == []


def test_gate_without_evidence_is_blocked_and_says_so(make_facts: FactsFactory) -> None:
    result = evaluate_gate(make_facts(), "risk_assessment", NOW)
    assert not result.open
    assert rules_of(result) == {"EVIDENCE-PRESENT"}


def test_legality_review_cannot_be_recorded_before_its_prerequisites(
    make_facts: FactsFactory,
) -> None:
    facts = make_facts(completed=("public_participation", "risk_assessment"))
    problems = admission_problems(facts, "legality_review", "sun.hao")
    assert [p.rule for p in problems] == ["STAGE-ORDER"]
    assert "expert_review" in problems[0].message
    assert "Art. 25" in problems[0].article


def test_unassigned_person_is_refused(make_facts: FactsFactory) -> None:
    problems = admission_problems(make_facts(), "risk_assessment", "li.wei")
    assert [p.rule for p in problems] == ["ASSIGNED-RECORDER"]
    assert "'li.wei' is not assigned to stage 'risk_assessment'" in problems[0].message


def test_unknown_stage_is_named(make_facts: FactsFactory) -> None:
    [problem] = admission_problems(make_facts(), "blessing", "li.wei")
    assert problem.rule == "STAGE-KNOWN" and "blessing" in problem.message


def test_completed_stage_takes_no_more_evidence(make_facts: FactsFactory) -> None:
    facts = make_facts(completed=("risk_assessment",))
    assert [p.rule for p in admission_problems(facts, "risk_assessment", "liu.yang")] == [
        "STAGE-COMPLETED"
    ]


def test_gate_names_evidence_recorded_by_an_unassigned_person(make_facts: FactsFactory) -> None:
    facts = make_facts(evidence=(("risk_assessment", submissions.RISK, "intruder"),))
    assert rules_of(evaluate_gate(facts, "risk_assessment", NOW)) == {"ASSIGNED-RECORDER"}


def test_tampered_evidence_blocks_the_gate(make_facts: FactsFactory) -> None:
    facts = make_facts(evidence=(("risk_assessment", submissions.RISK),))
    broken = replace(facts, evidence=(replace(facts.evidence[0], evidence=None),))
    result = evaluate_gate(broken, "risk_assessment", NOW)
    assert rules_of(result) == {"EVIDENCE-INTEGRITY"}
    assert "#1" in result.unmet[0].message


def test_every_rule_cites_an_article_and_has_a_unique_id() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    assert all(rule.article and rule.summary for rule in RULES)
