"""Filing a normative document for the record with the higher authority."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from dueprocess.rules.engine import RuleContext, evidence_rule, flag_rule
from dueprocess.rules.publication import publication_date
from models.evidence_schemas import FilingEvidence

KIND = "filing"
ARTICLE = "GOV Office 2018 No. 37"


@evidence_rule(id="FL-AFTER-PUBLICATION", kind=KIND, article=ARTICLE,
               summary="What is filed is the published document, so not before publication")
def after_publication(evidence: FilingEvidence, ctx: RuleContext) -> Iterator[str]:
    published = publication_date(ctx.facts)
    if published is not None and evidence.filed_on < published:
        yield f"filed_on {evidence.filed_on} is before publication on {published}"


@flag_rule(id="FL-ON-TIME", kind=KIND, article=ARTICLE,
           summary="Filed with the higher authority within 30 days of publication")
def on_time(ctx: RuleContext) -> Iterator[str]:
    published = publication_date(ctx.facts)
    if published is None:
        return
    days = ctx.params.file_within_days
    due = published + timedelta(days=days)
    filed = [e.filed_on for e in ctx.evidence]
    if not filed and ctx.now.date() > due:
        yield f"overdue: not filed by {due}, {days} days after publication on {published}"
    elif filed and max(filed) > due:
        yield (f"filed late on {max(filed)}: due by {due}, {days} days after publication "
               f"on {published}")
