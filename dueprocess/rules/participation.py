"""Public participation, Decree 713 Art. 14–18."""

from __future__ import annotations

from collections.abc import Iterator

from dueprocess.rules.engine import RuleContext, evidence_rule, gate_rule
from models.evidence_schemas import PublicParticipationEvidence

KIND = "public_participation"


@evidence_rule(id="PP-WINDOW-LENGTH", kind=KIND, article="Art. 15",
               summary="Comment window at least 30 days, or a published reason for a shorter one")
def window_length(evidence: PublicParticipationEvidence, ctx: RuleContext) -> Iterator[str]:
    days = (evidence.window_closes - evidence.window_opens).days
    minimum = ctx.params.min_comment_days
    if days < minimum and not evidence.shortened_reason:
        yield (f"comment window is {days} days, shorter than {minimum}, "
               "and no shortened_reason is stated")


@evidence_rule(id="PP-ADOPTION", kind=KIND, article="Art. 18",
               summary="Opinions received are answered by an adoption statement")
def adoption_statement(evidence: PublicParticipationEvidence, ctx: RuleContext) -> Iterator[str]:
    if not evidence.adoption_statement.strip():
        yield "adoption_statement is empty"


@gate_rule(id="PP-WINDOW-CLOSED", kind=KIND, article="Art. 15",
           summary="The comment window has closed before the stage completes")
def window_closed(ctx: RuleContext) -> Iterator[str]:
    for evidence in ctx.evidence:
        if evidence.window_closes >= ctx.now.date():
            yield f"comment window is still open until {evidence.window_closes.isoformat()}"
