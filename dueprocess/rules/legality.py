"""Legality review, Decree 713 Art. 25–28."""

from __future__ import annotations

from collections.abc import Iterator

from dueprocess.rules.engine import RuleContext, admission_rule, evidence_rule, gate_rule
from dueprocess.rules.package import assemble_package
from dueprocess.rules.workdays import CalendarError, get_calendar, working_days_after
from models.evidence_schemas import LegalityReviewEvidence

KIND = "legality_review"


@admission_rule(id="LR-NOT-UNDERTAKING-UNIT", kind=KIND, article="Art. 25",
                summary="The legality review is done by the legal department, never by the "
                        "undertaking unit")
def not_undertaking_unit(handle: str, ctx: RuleContext) -> Iterator[str]:
    person = ctx.facts.people.get(handle)
    if person is not None and person.unit == ctx.facts.undertaking_unit:
        yield (f"'{handle}' belongs to the undertaking unit '{person.unit}', which cannot "
               "review its own draft")


@evidence_rule(id="LR-EXPLORATORY-RISK", kind=KIND, article="Art. 25",
               summary="Exploratory reform passes only with the legal risk stated")
def exploratory_risk_stated(evidence: LegalityReviewEvidence, ctx: RuleContext) -> Iterator[str]:
    if evidence.outcome == "exploratory_reform" and not evidence.legal_risk_statement:
        yield "outcome 'exploratory_reform' requires legal_risk_statement"


@evidence_rule(id="LR-REVIEW-PERIOD", kind=KIND, article="Art. 26",
               summary="At least 7 working days on China's official calendar from the package "
                       "dueprocess submitted (the stage opened) to the opinion recorded")
def review_period(evidence: LegalityReviewEvidence, ctx: RuleContext) -> Iterator[str]:
    submitted = ctx.facts.stage_opened_on(ctx.stage.key)  # the package went to the reviewer
    if submitted is None:
        yield "dueprocess has no record of submitting the review package (stage not opened)"
        return
    if evidence.received_on < submitted:
        yield (f"received_on {evidence.received_on} contradicts the package submission "
               f"dueprocess recorded on {submitted}")
    recorded = ctx.facts.local_date(ctx.now)
    minimum = ctx.params.min_review_working_days
    try:
        calendar = get_calendar(ctx.params.calendar)
        days = working_days_after(submitted, recorded, calendar)
    except CalendarError as exc:
        yield f"cannot count the review period in working days: {exc}"
        return
    if days < minimum:
        yield (f"the opinion is recorded {days} working days on {calendar.name} after the "
               f"package was submitted on {submitted}, fewer than {minimum}")


@evidence_rule(id="LR-REVISED-DRAFT", kind=KIND, article="Art. 28",
               summary="After an 'unlawful' or 'revise' finding only a review of a revised "
                       "draft counts")
def revised_draft(evidence: LegalityReviewEvidence, ctx: RuleContext) -> Iterator[str]:
    earlier = [
        item for item in ctx.facts.evidence_for(ctx.stage.key)
        if item.recorded_at <= ctx.now and item.evidence is not None
        and item.evidence is not evidence  # at the gate: judged as of its own recording
        and item.evidence.outcome in ("unlawful", "revise")  # type: ignore[attr-defined]
        and item.draft_version >= ctx.facts.draft_version
    ]
    for item in earlier[-1:]:
        yield (f"evidence #{item.id} found draft v{item.draft_version} "
               f"'{item.evidence.outcome}'; only a review of a revised draft "  # type: ignore[union-attr]
               f"(v{item.draft_version + 1} or later) counts")


@evidence_rule(id="LR-REVIEW-SCOPE", kind=KIND, article="Art. 27",
               summary="The review examines the organ's authority, the procedure followed "
                       "and the content")
def review_scope(evidence: LegalityReviewEvidence, ctx: RuleContext) -> Iterator[str]:
    missing = [s for s in ("authority", "procedure", "content") if s not in evidence.review_covers]
    if missing:
        yield f"review_covers lacks: {', '.join(missing)}"


@evidence_rule(id="LR-ADVISERS", kind=KIND, article="Art. 28",
               summary="Legal advisers or public-sector lawyers give their views")
def advisers(evidence: LegalityReviewEvidence, ctx: RuleContext) -> Iterator[str]:
    if not [a for a in evidence.advisers_consulted if a.strip()]:
        yield "advisers_consulted: no legal adviser or public-sector lawyer was heard"


@gate_rule(id="LR-PACKAGE-COMPLETE", kind=KIND, article="Art. 26",
           summary="The submission package holds the legal basis and every procedure "
                   "performed, with intact evidence")
def package_complete(ctx: RuleContext) -> Iterator[str]:
    yield from assemble_package(ctx.facts, ctx.stage.key).problems()


@gate_rule(id="LR-FINAL-DRAFT", kind=KIND, article="Art. 25",
           summary="The review concerns the current draft")
def final_draft(ctx: RuleContext) -> Iterator[str]:
    for item in ctx.items:
        if item.draft_version != ctx.facts.draft_version:
            yield (f"evidence #{item.id} reviews draft v{item.draft_version}; the current "
                   f"draft is v{ctx.facts.draft_version}")


@gate_rule(id="LR-LAWFUL", kind=KIND, article="Art. 25",
           summary="A draft found unlawful may not be submitted for decision")
def lawful(ctx: RuleContext) -> Iterator[str]:
    for evidence in ctx.evidence:
        if evidence.outcome == "unlawful":
            yield "legality review outcome is 'unlawful': the draft may not be submitted"


@gate_rule(id="LR-REVISE-SENT-BACK", kind=KIND, article="Art. 28", sends_back=True,
           summary="Outcome 'revise' sends the draft back to the undertaking unit")
def revise_sent_back(ctx: RuleContext) -> Iterator[str]:
    for evidence in ctx.evidence:
        if evidence.outcome == "revise":
            yield ("legality review outcome is 'revise': the case is sent back; revise the "
                   "draft and have the revised draft reviewed")
