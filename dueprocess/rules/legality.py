"""Legality review, Decree 713 Art. 25–28."""

from __future__ import annotations

from collections.abc import Iterator

from dueprocess.rules.engine import RuleContext, evidence_rule, gate_rule
from models.evidence_schemas import LegalityReviewEvidence

KIND = "legality_review"


@evidence_rule(id="LR-EXPLORATORY-RISK", kind=KIND, article="Art. 28",
               summary="Exploratory reform passes only with the legal risk stated")
def exploratory_risk_stated(evidence: LegalityReviewEvidence, ctx: RuleContext) -> Iterator[str]:
    if evidence.outcome == "exploratory_reform" and not evidence.legal_risk_statement:
        yield "outcome 'exploratory_reform' requires legal_risk_statement"


@gate_rule(id="LR-LAWFUL", kind=KIND, article="Art. 26",
           summary="A draft not found lawful may not be submitted for decision")
def lawful(ctx: RuleContext) -> Iterator[str]:
    for evidence in ctx.evidence:
        if evidence.outcome not in ("lawful", "exploratory_reform"):
            yield f"legality review outcome is '{evidence.outcome}', not 'lawful'"
