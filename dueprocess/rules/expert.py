"""Expert argumentation, Decree 713 Art. 19–21."""

from __future__ import annotations

from collections.abc import Iterator

from dueprocess.rules.engine import RuleContext, evidence_rule, gate_rule
from models.evidence_schemas import ExpertOpinionEvidence

KIND = "expert_review"


@evidence_rule(id="EX-NO-DIRECT-INTEREST", kind=KIND, article="Art. 20",
               summary="An expert with a direct interest is excluded")
def no_direct_interest(evidence: ExpertOpinionEvidence, ctx: RuleContext) -> Iterator[str]:
    if evidence.direct_interest:
        yield f"expert '{evidence.expert_name}' declared a direct interest and is excluded"


@gate_rule(id="EX-PANEL-SIZE", kind=KIND, article="Art. 20",
           summary="Written opinions from at least the minimum number of experts")
def panel_size(ctx: RuleContext) -> Iterator[str]:
    count = len(ctx.evidence)
    minimum = ctx.params.min_experts
    if count < minimum:
        yield f"{count} of at least {minimum} expert opinions recorded"
