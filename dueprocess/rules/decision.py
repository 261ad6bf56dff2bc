"""Collective discussion and decision, Decree 713 Art. 29–31."""

from __future__ import annotations

from collections.abc import Iterator

from dueprocess.rules.engine import RuleContext, evidence_rule, gate_rule
from models.evidence_schemas import CollectiveDecisionEvidence

KIND = "collective_decision"


@evidence_rule(id="CD-DISSENT-RECORDED", kind=KIND, article="Art. 31",
               summary="Every member who spoke against has the dissent recorded as stated")
def dissent_recorded(evidence: CollectiveDecisionEvidence, ctx: RuleContext) -> Iterator[str]:
    dissenters = {d.member for d in evidence.dissent}
    for statement in evidence.statements:
        if statement.position == "against" and statement.speaker not in dissenters:
            yield f"'{statement.speaker}' spoke against but no dissent is recorded for them"


@evidence_rule(id="CD-HEAD-DECIDES", kind=KIND, article="Art. 30",
               summary="The administrative head takes the decision at the meeting")
def head_decides(evidence: CollectiveDecisionEvidence, ctx: RuleContext) -> Iterator[str]:
    if evidence.head not in evidence.members_present:
        yield f"head '{evidence.head}' is not among members_present"


@gate_rule(id="CD-DECIDED", kind=KIND, article="Art. 30",
           summary="The meeting reached a decision (approve or reject), not a deferral")
def decided(ctx: RuleContext) -> Iterator[str]:
    for evidence in ctx.evidence:
        if evidence.head_decision == "defer":
            yield "the meeting deferred the decision; record the meeting that decides"
