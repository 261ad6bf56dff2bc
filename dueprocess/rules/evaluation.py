"""Evaluation after the decision, Decree 713 Art. 36–37.

Who may evaluate (not the units that did the main assessment before the decision) is
checked when the evaluation case opens (`implementation.follow_up`, rule EVAL-INDEPENDENT);
these rules judge the evaluation itself.
"""

from __future__ import annotations

from collections.abc import Iterator

from dueprocess.rules.engine import RuleContext, evidence_rule
from models.evidence_schemas import DecisionEvaluationEvidence

KIND = "decision_evaluation"


@evidence_rule(id="EVAL-PUBLIC-HEARD", kind=KIND, article="Art. 36",
               summary="The evaluation heard the public and involved deputies, CPPCC "
                       "members or social organisations")
def public_heard(evidence: DecisionEvaluationEvidence, ctx: RuleContext) -> Iterator[str]:
    if evidence.public_opinions_heard < 1:
        yield "public_opinions_heard is 0: the evaluation must hear the public's opinions"
    if not evidence.participants:
        yield ("participants is empty: deputies, CPPCC members, people's organisations, "
               "grassroots or social organisations take part in the evaluation")


@evidence_rule(id="EVAL-BY-ITS-UNIT", kind=KIND, article="Art. 36",
               summary="The evaluation is recorded by a person of the evaluating unit it names")
def by_its_unit(evidence: DecisionEvaluationEvidence, ctx: RuleContext) -> Iterator[str]:
    person = ctx.facts.people.get(ctx.recorder or "")
    if person is not None and person.unit != evidence.evaluated_by:
        yield (f"evaluated_by '{evidence.evaluated_by}' is not the unit of '{person.handle}' "
               f"({person.unit or 'no unit'}), who records it")


@evidence_rule(id="EVAL-CONCLUSION-REASONED", kind=KIND, article="Art. 37",
               summary="A conclusion to adjust or stop the decision gives its reasons")
def conclusion_reasoned(evidence: DecisionEvaluationEvidence,
                        ctx: RuleContext) -> Iterator[str]:
    if evidence.conclusion != "continue" and not (evidence.reasons or "").strip():
        yield f"conclusion '{evidence.conclusion}' needs reasons"
