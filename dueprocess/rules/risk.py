"""Risk assessment, Decree 713 Art. 22–24."""

from __future__ import annotations

from collections.abc import Iterator

from dueprocess.rules.engine import RuleContext, gate_rule

KIND = "risk_assessment"


@gate_rule(id="RA-CONTROLLABLE", kind=KIND, article="Art. 24",
           summary="Proceed only when the risk is assessed as controllable")
def controllable(ctx: RuleContext) -> Iterator[str]:
    for evidence in ctx.evidence:
        if not evidence.controllable:
            yield ("risk assessed as not controllable: adjust the draft and record a new "
                   "assessment that finds it controllable")
