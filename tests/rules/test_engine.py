"""The rule engine's common requirements: order, evidence present, assigned recorder."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from dueprocess.demo import submissions
from dueprocess.rules import (
    StageFacts,
    admission_problems,
    evaluate_gate,
    ready_stages,
    sent_back,
)
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
    assert "no evidence recorded for 'Risk assessment'" in result.unmet[0].message
    recorded = make_facts(evidence=(("risk_assessment", submissions.RISK),))
    assert evaluate_gate(recorded, "risk_assessment", NOW).open


def test_legality_review_cannot_be_recorded_before_its_prerequisites(
    make_facts: FactsFactory,
) -> None:
    facts = make_facts(completed=("public_participation", "risk_assessment"))
    problems = admission_problems(facts, "legality_review", "sun.hao")
    assert [p.rule for p in problems] == ["STAGE-ORDER"]
    assert "expert_review" in problems[0].message
    assert problems[0].article == "Decree 713 Art. 19–21"  # the missing stage's articles
    ready = make_facts(completed=("public_participation", "expert_review", "risk_assessment"))
    assert admission_problems(ready, "legality_review", "sun.hao") == []


def test_a_meeting_before_the_legality_review_cites_art_25(make_facts: FactsFactory) -> None:
    facts = make_facts(completed=("public_participation", "expert_review", "risk_assessment"))
    [problem] = admission_problems(facts, "collective_decision", "zhao.li")
    assert problem.rule == "STAGE-ORDER" and problem.article == "Decree 713 Art. 25–28"
    assert "[STAGE-ORDER, Decree 713 Art. 25–28]" in str(problem)


def test_unassigned_person_is_refused(make_facts: FactsFactory) -> None:
    problems = admission_problems(make_facts(), "risk_assessment", "li.wei")
    assert [p.rule for p in problems] == ["ASSIGNED-RECORDER"]
    assert "'li.wei' is not assigned to stage 'risk_assessment'" in problems[0].message
    assert admission_problems(make_facts(), "risk_assessment", "liu.yang") == []


def test_unknown_stage_is_named(make_facts: FactsFactory) -> None:
    [problem] = admission_problems(make_facts(), "blessing", "li.wei")
    assert problem.rule == "STAGE-KNOWN" and "blessing" in problem.message
    assert admission_problems(make_facts(), "public_participation", "li.wei") == []


def test_completed_stage_takes_no_more_evidence(make_facts: FactsFactory) -> None:
    facts = make_facts(completed=("risk_assessment",))
    assert [p.rule for p in admission_problems(facts, "risk_assessment", "liu.yang")] == [
        "STAGE-COMPLETED"
    ]
    assert admission_problems(make_facts(), "risk_assessment", "liu.yang") == []


def test_gate_names_evidence_recorded_by_an_unassigned_person(make_facts: FactsFactory) -> None:
    facts = make_facts(evidence=(("risk_assessment", submissions.RISK, "intruder"),))
    assert rules_of(evaluate_gate(facts, "risk_assessment", NOW)) == {"ASSIGNED-RECORDER"}


def test_tampered_evidence_blocks_the_gate(make_facts: FactsFactory) -> None:
    facts = make_facts(evidence=(("risk_assessment", submissions.RISK),))
    broken = replace(facts, evidence=(replace(facts.evidence[0], evidence=None),))
    result = evaluate_gate(broken, "risk_assessment", NOW)
    assert rules_of(result) == {"EVIDENCE-INTEGRITY"}
    assert "#1" in result.unmet[0].message
    assert evaluate_gate(facts, "risk_assessment", NOW).open


def test_every_rule_cites_an_article_and_has_a_unique_id() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    assert all(rule.article and rule.summary for rule in RULES)


def test_assigned_person_with_the_wrong_role_is_refused(make_facts: FactsFactory) -> None:
    facts = make_facts()
    wrong = replace(facts, assignments={**facts.assignments,
                                        "risk_assessment": frozenset({"li.wei", "liu.yang"})})
    [problem] = admission_problems(wrong, "risk_assessment", "li.wei")
    assert problem.rule == "RECORDER-ROLE" and "'participation_officer'" in problem.message
    assert admission_problems(wrong, "risk_assessment", "liu.yang") == []


def test_evidence_on_an_older_draft_does_not_count_for_a_reopened_stage(
    make_facts: FactsFactory,
) -> None:
    older = make_facts(evidence=(("risk_assessment", submissions.RISK, "liu.yang", 1),),
                       draft_version=2)
    [unmet] = evaluate_gate(older, "risk_assessment", NOW).unmet
    assert unmet.rule == "EVIDENCE-PRESENT" and "current draft v2" in unmet.message
    current = make_facts(evidence=(("risk_assessment", submissions.RISK, "liu.yang", 2),),
                         draft_version=2)
    assert evaluate_gate(current, "risk_assessment", NOW).open
    # Public participation is not reopened by a revision: its evidence keeps counting.
    kept = make_facts(evidence=(("public_participation", submissions.PARTICIPATION),),
                      draft_version=2)
    assert evaluate_gate(kept, "public_participation", NOW).open


def test_a_late_duty_is_flagged_but_does_not_block(make_facts: FactsFactory) -> None:
    from tests.rules.conftest import DECIDED
    from tests.support import VALID_STEPS

    history = tuple((s, e, by) for s, by, e in VALID_STEPS if s in DECIDED)
    late = {**submissions.PUBLICATION, "published_on": "2026-12-29"}
    facts = make_facts(completed=DECIDED, evidence=(*history, ("publication", late)))
    # Witnessed: dueprocess recorded the publication on 2026-12-30, 40 days after the
    # meeting's record of 2026-11-20 (the typed date alone would not decide it).
    recorded = datetime(2026, 12, 30, 2, 0, tzinfo=UTC)
    facts = replace(facts, evidence=tuple(
        replace(e, recorded_at=recorded) if e.stage_key == "publication" else e
        for e in facts.evidence))
    result = evaluate_gate(facts, "publication", recorded)
    assert result.open and [f.rule for f in result.flags] == ["PB-ON-TIME"]
    assert "recorded late on 2026-12-30: due by 2026-12-05" in result.flags[0].message
    # Not yet published, and past the deadline: flagged while the stage waits.
    waiting = evaluate_gate(make_facts(completed=DECIDED, evidence=history), "publication",
                            NOW.replace(month=12, day=20))
    assert [f.rule for f in waiting.flags] == ["PB-ON-TIME"]
    assert "overdue: not published by 2026-12-05" in waiting.flags[0].message
    assert evaluate_gate(make_facts(completed=DECIDED, evidence=history), "publication",
                         NOW).flags == ()


def test_only_a_revision_cures_a_sent_back_gate(make_facts: FactsFactory) -> None:
    risky = {**submissions.RISK, "controllable": False}
    result = evaluate_gate(make_facts(evidence=(("risk_assessment", risky),)),
                           "risk_assessment", NOW)
    assert [u.rule for u in sent_back(result)] == ["RA-CONTROLLABLE"]
    short = make_facts(evidence=(("expert_review", submissions.EXPERTS["prof.zhang"]),))
    assert sent_back(evaluate_gate(short, "expert_review", NOW)) == []


def test_start_rules_and_archive_apply_to_the_deciding_and_closing_stages(
    make_facts: FactsFactory,
) -> None:
    from dueprocess.rules.engine import CASE, CLOSING, _scopes

    facts = make_facts()
    assert _scopes(facts, facts.procedure.stage("collective_decision")) == {
        "collective_decision", CASE}
    assert _scopes(facts, facts.procedure.stage("publication")) == {"publication", CLOSING}
    assert _scopes(facts, facts.procedure.stage("risk_assessment")) == {"risk_assessment"}
