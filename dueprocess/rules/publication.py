"""Publication, Decree 713 Art. 31–32."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from dueprocess.rules.decision import decision_date, decision_recorded_on
from dueprocess.rules.engine import RuleContext, evidence_rule, flag_rule
from dueprocess.rules.facts import CaseFacts
from models.evidence_schemas import PublicationEvidence

KIND = "publication"


def publication_recorded_on(facts: CaseFacts) -> date | None:
    """When dueprocess recorded the publication (witnessed, in the case's time zone)."""
    recorded = [item.recorded_at for stage in facts.procedure.stages_of_kind(KIND)
                for item in facts.current_evidence(stage.key)]
    return facts.local_date(max(recorded)) if recorded else None


def publication_date(facts: CaseFacts) -> date | None:
    published = [e.published_on for e in facts.current_models(KIND)]  # type: ignore[attr-defined]
    return max(published) if published else None


@evidence_rule(id="PB-OFFICIAL-CHANNEL", kind=KIND, article="Art. 32",
               summary="Published through the gazette or the government website")
def official_channel(evidence: PublicationEvidence, ctx: RuleContext) -> Iterator[str]:
    if not {"gazette", "website"} & set(evidence.channels):
        yield "channels must include 'gazette' or 'website'"


@evidence_rule(id="PB-AFTER-DECISION", kind=KIND, article="Art. 32",
               summary="What is published is the decision taken, so not before the meeting")
def after_decision(evidence: PublicationEvidence, ctx: RuleContext) -> Iterator[str]:
    decided = decision_date(ctx.facts)
    if decided is not None and evidence.published_on < decided:
        yield f"published_on {evidence.published_on} is before the decision of {decided}"
    recorded = decision_recorded_on(ctx.facts)
    if recorded is not None and evidence.published_on < recorded:
        yield (f"published_on {evidence.published_on} is before dueprocess recorded the "
               f"meeting's decision on {recorded}")


@evidence_rule(id="PB-ADOPTION-EXPLAINED", kind=KIND, article="Art. 32",
               summary="Publication explains how public and expert opinions were adopted")
def adoption_explained(evidence: PublicationEvidence, ctx: RuleContext) -> Iterator[str]:
    if not ctx.params.explain_adoption:
        return
    if not (evidence.adoption_explanation or "").strip():
        yield "adoption_explanation: how public opinions were adopted is not explained"
    if ctx.facts.procedure.stages_of_kind("expert_review") and not (
        evidence.expert_adoption_explanation or ""
    ).strip():
        yield "expert_adoption_explanation: how expert opinions were adopted is not explained"


@evidence_rule(id="PB-PARTY-CONSULTED", kind=KIND, article="Art. 31",
               summary="The Party committee at the same level is consulted before issue")
def party_consulted(evidence: PublicationEvidence, ctx: RuleContext) -> Iterator[str]:
    if not ctx.params.party_consultation:
        return
    consulted = evidence.party_committee_consulted_on
    if consulted is None:
        yield "party_committee_consulted_on: no consultation of the Party committee recorded"
    elif consulted > evidence.published_on:
        yield (f"the Party committee was consulted on {consulted}, after the issue on "
               f"{evidence.published_on}")


@flag_rule(id="PB-ON-TIME", kind=KIND, article="Art. 32",
           summary="Published promptly: recorded within the configured days after "
                   "dueprocess recorded the meeting's decision")
def on_time(ctx: RuleContext) -> Iterator[str]:
    decided = decision_recorded_on(ctx.facts)  # witnessed, not the typed meeting date
    if decided is None:
        return
    days = ctx.params.publish_within_days
    due = decided + timedelta(days=days)
    published = publication_recorded_on(ctx.facts)
    if published is None and ctx.facts.local_date(ctx.now) > due:
        yield (f"overdue: not published by {due}, {days} days after the decision recorded "
               f"on {decided}")
    elif published is not None and published > due:
        yield (f"publication recorded late on {published}: due by {due}, {days} days after "
               f"the decision recorded on {decided}")
