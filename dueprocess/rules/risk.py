"""Risk assessment, Decree 713 Art. 22–24."""

from __future__ import annotations

from collections.abc import Iterator

from dueprocess.rules.engine import RuleContext, evidence_rule, gate_rule
from models.evidence_schemas import RiskAssessmentEvidence

KIND = "risk_assessment"


@evidence_rule(id="RA-REPORT-CONTENTS", kind=KIND, article="Art. 22–23",
               summary="The report covers the assessed areas, names risk points, prevention "
                       "measures and a response plan, after hearing the departments concerned")
def report_contents(evidence: RiskAssessmentEvidence, ctx: RuleContext) -> Iterator[str]:
    if not evidence.areas:
        yield "areas: name what was assessed (social stability, public safety, ...)"
    for field in ("risk_points", "prevention_measures"):
        if any(not entry.strip() for entry in getattr(evidence, field)):
            yield f"{field}: a blank entry"
    if not [d for d in evidence.departments_consulted if d.strip()]:
        yield "departments_consulted: the views of the departments concerned were not heard"


@gate_rule(id="RA-CONTROLLABLE", kind=KIND, article="Art. 24", sends_back=True,
           summary="Proceed only when the risk is assessed as controllable")
def controllable(ctx: RuleContext) -> Iterator[str]:
    for evidence in ctx.evidence:
        if not evidence.controllable:
            yield ("risk assessed as not controllable: the case is sent back; revise the "
                   "draft and record a new assessment of the revised draft")


@gate_rule(id="RA-REASSESSED-ON-REVISED-DRAFT", kind=KIND, article="Art. 24",
           summary="After a 'not controllable' verdict, the risk is reassessed on a revised "
                   "draft")
def reassessed_on_revised_draft(ctx: RuleContext) -> Iterator[str]:
    intact = [i for i in ctx.facts.evidence_for(ctx.stage.key) if i.evidence is not None]
    refused_on = [i.draft_version for i in intact if not i.evidence.controllable]  # type: ignore[union-attr]
    for item in ctx.items:
        if not item.evidence.controllable:  # type: ignore[union-attr]
            continue  # RA-CONTROLLABLE says so
        if refused_on and item.draft_version <= max(refused_on):
            yield (f"the risk was found not controllable on draft v{max(refused_on)}; "
                   f"evidence #{item.id} reassesses draft v{item.draft_version}, not a "
                   "revised draft")
