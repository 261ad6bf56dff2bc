"""Replying to judicial and procuratorial recommendations (司法建议, 检察建议).

A recommendation is received when its case is opened (witnessed), assigned to the
department that answers it, and answered in writing within the procedure's
`reply_within_days` (two months for a procuratorial recommendation). The period runs from
the case's opening to the reply's recording, both witnessed; the typed `replied_on`
stays a declaration, bounded by EV-DATE-WITNESSED.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from dueprocess.rules.engine import RuleContext, admission_rule, evidence_rule, flag_rule
from models.evidence_schemas import AssignmentEvidence, RecommendationReplyEvidence
from models.people import Role

ASSIGNMENT = "assignment"
REPLY = "recommendation_reply"
ARTICLE = "SPP Procuratorial Recommendation Provisions 2019"


def assigned(ctx: RuleContext) -> AssignmentEvidence | None:
    """The current assignment of the case's recommendation, if one was recorded."""
    models = ctx.facts.current_models(ASSIGNMENT)
    latest = models[-1] if models else None
    return latest if isinstance(latest, AssignmentEvidence) else None


@evidence_rule(id="RC-ASSIGNED-OFFICIAL", kind=ASSIGNMENT, article=ARTICLE,
               summary="The recommendation is assigned to a registered official of the "
                       "department named to answer it")
def assigned_official(evidence: AssignmentEvidence, ctx: RuleContext) -> Iterator[str]:
    person = ctx.facts.people.get(evidence.responsible)
    if person is None:
        yield f"responsible '{evidence.responsible}' is not a registered person"
    elif person.role != Role.OFFICIAL or person.unit != evidence.department:
        yield (f"responsible '{evidence.responsible}' ({person.role}, {person.unit or 'no unit'})"
               f" is not an official of the department '{evidence.department}'")


@admission_rule(id="RC-REPLY-BY-ASSIGNED", kind=REPLY, article=ARTICLE, at_assignment=False,
                summary="Only the official the recommendation was assigned to replies")
def reply_by_assigned(handle: str, ctx: RuleContext) -> Iterator[str]:
    assignment = assigned(ctx)
    if assignment is None:
        yield "the recommendation has not been assigned yet"
    elif handle != assignment.responsible:
        yield (f"'{handle}' may not reply: the recommendation was assigned to "
               f"'{assignment.responsible}' of {assignment.department}")


@evidence_rule(id="RC-REASONS-IF-NOT-ADOPTED", kind=REPLY, article=ARTICLE,
               summary="A reply that does not adopt the recommendation in full says why")
def reasons_if_not_adopted(evidence: RecommendationReplyEvidence,
                           ctx: RuleContext) -> Iterator[str]:
    if evidence.outcome != "adopted" and not (evidence.reasons or "").strip():
        yield f"outcome '{evidence.outcome}' needs reasons: why it was not adopted in full"


@flag_rule(id="RC-REPLY-ON-TIME", kind=REPLY, article=ARTICLE,
           summary="Replied within the procedure's period of the recommendation's receipt, "
                   "both as dueprocess recorded them")
def reply_on_time(ctx: RuleContext) -> Iterator[str]:
    received = ctx.facts.opened_on  # witnessed: the case was opened on receipt
    if received is None:
        return
    days = ctx.params.reply_within_days
    due = received + timedelta(days=days)
    replies = ctx.items
    if not replies and ctx.facts.local_date(ctx.now) > due:
        yield f"overdue: no reply by {due}, {days} days after receipt on {received}"
    elif replies:
        replied = ctx.facts.local_date(replies[-1].recorded_at)
        if replied > due:
            yield (f"replied late: dueprocess recorded the reply on {replied}, due by {due} "
                   f"({days} days after receipt on {received})")
