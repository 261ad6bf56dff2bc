"""Filing a normative document for the record with the higher authority.

Periods run from the publication dueprocess recorded (witnessed). The filing date itself
is the higher authority's, an event outside dueprocess: it stays a declaration, bounded
by witnessed events on both sides (not before the publication was recorded, and, by
EV-DATE-WITNESSED, not after the filing was recorded)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from dueprocess.rules.engine import RuleContext, evidence_rule, flag_rule
from dueprocess.rules.publication import publication_date, publication_recorded_on
from models.evidence_schemas import FilingEvidence

KIND = "filing"
ARTICLE = "GOV Office 2018 No. 37"


@evidence_rule(id="FL-AFTER-PUBLICATION", kind=KIND, article=ARTICLE,
               summary="What is filed is the published document, so not before publication")
def after_publication(evidence: FilingEvidence, ctx: RuleContext) -> Iterator[str]:
    published = publication_date(ctx.facts)
    if published is not None and evidence.filed_on < published:
        yield f"filed_on {evidence.filed_on} is before publication on {published}"
    recorded = publication_recorded_on(ctx.facts)
    if recorded is not None and evidence.filed_on < recorded:
        yield (f"filed_on {evidence.filed_on} is before dueprocess recorded the publication "
               f"on {recorded}")


@flag_rule(id="FL-ON-TIME", kind=KIND, article=ARTICLE,
           summary="Filed with the higher authority within 30 days of the publication "
                   "dueprocess recorded")
def on_time(ctx: RuleContext) -> Iterator[str]:
    published = publication_recorded_on(ctx.facts)  # witnessed, not the typed date
    if published is None:
        return
    days = ctx.params.file_within_days
    due = published + timedelta(days=days)
    filed = [e.filed_on for e in ctx.evidence]
    if not filed and ctx.facts.local_date(ctx.now) > due:
        yield f"overdue: not filed by {due}, {days} days after publication on {published}"
    elif filed and max(filed) > due:
        yield (f"filed late on {max(filed)}: due by {due}, {days} days after publication "
               f"on {published}")
