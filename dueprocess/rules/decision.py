"""Collective discussion and decision, Decree 713 Art. 25, 29–30."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from dueprocess.rules.engine import RuleContext, evidence_rule, gate_rule
from dueprocess.rules.facts import CaseFacts
from models.evidence_schemas import CollectiveDecisionEvidence
from models.stages import StageStatus

KIND = "collective_decision"


def decision_date(facts: CaseFacts) -> date | None:
    """The meeting date of the recorded decision, once the deciding stage is completed."""
    deciding = facts.procedure.deciding_stage.key
    if facts.status(deciding) is not StageStatus.COMPLETED:
        return None
    meetings = [i.evidence for i in facts.current_evidence(deciding) if i.evidence is not None]
    return meetings[-1].held_on if meetings else None  # type: ignore[attr-defined]


def decision_recorded_on(facts: CaseFacts) -> date | None:
    """The date dueprocess recorded the meeting that decided (witnessed, in the case's zone),
    once the deciding stage is completed."""
    deciding = facts.procedure.deciding_stage.key
    if facts.status(deciding) is not StageStatus.COMPLETED:
        return None
    items = facts.current_evidence(deciding)
    return facts.local_date(items[-1].recorded_at) if items else None


def legality_opinion_recorded_on(facts: CaseFacts, stage_key: str) -> date | None:
    """When dueprocess recorded the latest legality opinion upstream of a stage."""
    upstream = facts.procedure.upstream(stage_key)
    recorded = [item.recorded_at for stage in facts.procedure.stages_of_kind("legality_review")
                if stage.key in upstream for item in facts.current_evidence(stage.key)]
    return facts.local_date(max(recorded)) if recorded else None


@evidence_rule(id="CD-AFTER-LEGALITY-OPINION", kind=KIND, article="Art. 25",
               summary="The meeting is held after the legality opinion was recorded")
def after_legality_opinion(evidence: CollectiveDecisionEvidence,
                           ctx: RuleContext) -> Iterator[str]:
    opinion = legality_opinion_recorded_on(ctx.facts, ctx.stage.key)
    if opinion is not None and evidence.held_on < opinion:
        yield (f"held_on {evidence.held_on} is before dueprocess recorded the legality "
               f"opinion on {opinion}: the draft may not be discussed before its review")


@evidence_rule(id="CD-MEETING-TYPE", kind=KIND, article="Art. 30",
               summary="The draft is discussed at an executive or plenary meeting")
def meeting_type(evidence: CollectiveDecisionEvidence, ctx: RuleContext) -> Iterator[str]:
    allowed = ctx.params.meeting_types
    if evidence.meeting_type not in allowed:
        yield f"meeting_type '{evidence.meeting_type}' is not one of: {', '.join(allowed)}"


@evidence_rule(id="CD-QUORUM", kind=KIND, article="Art. 30",
               summary="More than half of the organ's members are present")
def quorum(evidence: CollectiveDecisionEvidence, ctx: RuleContext) -> Iterator[str]:
    members = ctx.facts.organ_members
    if not members:
        yield f"no members of the decision organ '{ctx.facts.organ}' are registered"
        return
    outsiders = [h for h in evidence.members_present if h not in members]
    if outsiders:
        yield f"not members of '{ctx.facts.organ}': {', '.join(outsiders)}"
    present = len({h for h in evidence.members_present if h in members})
    needed = int(len(members) * ctx.params.quorum_fraction) + 1
    if present < needed:
        yield (f"{present} of {len(members)} members present; a quorum needs at least "
               f"{needed}")


@evidence_rule(id="CD-HEAD-DECIDES", kind=KIND, article="Art. 30",
               summary="The administrative head takes the decision at the meeting")
def head_decides(evidence: CollectiveDecisionEvidence, ctx: RuleContext) -> Iterator[str]:
    head = ctx.facts.organ_head
    if head is None:
        yield f"the decision organ '{ctx.facts.organ}' has no single registered head"
    elif evidence.head != head.handle:
        yield f"head '{evidence.head}' is not the organ's head '{head.handle}'"
    if evidence.head not in evidence.members_present:
        yield f"head '{evidence.head}' is not among members_present"


@evidence_rule(id="CD-SPEAKERS-PRESENT", kind=KIND, article="Art. 30",
               summary="Statements are made by members present at the meeting")
def speakers_present(evidence: CollectiveDecisionEvidence, ctx: RuleContext) -> Iterator[str]:
    absent = sorted({s.speaker for s in evidence.statements} - set(evidence.members_present))
    if absent:
        yield f"statements by people not present: {', '.join(absent)}"


@evidence_rule(id="CD-HEAD-LAST", kind=KIND, article="Art. 30",
               summary="Members speak in order and the head speaks last")
def head_last(evidence: CollectiveDecisionEvidence, ctx: RuleContext) -> Iterator[str]:
    speakers = [s.speaker for s in evidence.statements]
    if speakers[-1] != evidence.head:
        yield f"the last statement is by '{speakers[-1]}', not by the head '{evidence.head}'"
    elif evidence.head in speakers[:-1]:
        yield f"the head '{evidence.head}' spoke before other members"


@evidence_rule(id="CD-REASONS-AGAINST-MAJORITY", kind=KIND, article="Art. 30",
               summary="A head's decision against the majority of members states its reasons")
def reasons_against_majority(
    evidence: CollectiveDecisionEvidence, ctx: RuleContext
) -> Iterator[str]:
    members = [s for s in evidence.statements if s.speaker != evidence.head]
    votes_for = sum(s.position == "for" for s in members)
    against = sum(s.position == "against" for s in members)
    opposed = (evidence.head_decision == "approve" and against > votes_for) or (
        evidence.head_decision == "reject" and votes_for > against)
    if opposed and not (evidence.reasons_against_majority or "").strip():
        yield (f"the head decided '{evidence.head_decision}' against the majority "
               f"({votes_for} for, {against} against) without reasons_against_majority")


@evidence_rule(id="CD-DISSENT-RECORDED", kind=KIND, article="Art. 30",
               summary="Every member who spoke against has the dissent recorded")
def dissent_recorded(evidence: CollectiveDecisionEvidence, ctx: RuleContext) -> Iterator[str]:
    dissenters = {d.member for d in evidence.dissent}
    for statement in evidence.statements:
        if statement.position == "against" and statement.speaker not in dissenters:
            yield f"'{statement.speaker}' spoke against but no dissent is recorded for them"


@evidence_rule(id="CD-DISSENT-VERBATIM", kind=KIND, article="Art. 30",
               summary="Dissent is recorded as stated: verbatim from the member's statement")
def dissent_verbatim(evidence: CollectiveDecisionEvidence, ctx: RuleContext) -> Iterator[str]:
    for dissent in evidence.dissent:
        said = [s.text for s in evidence.statements if s.speaker == dissent.member]
        if not any(dissent.text in text for text in said):
            yield f"the dissent of '{dissent.member}' is not what they stated at the meeting"


@gate_rule(id="CD-MATERIALS", kind=KIND, article="Art. 29",
           summary="The meeting received the draft, the adoption of public and expert "
                   "opinions, the risk report and the legality opinion")
def materials(ctx: RuleContext) -> Iterator[str]:
    facts = ctx.facts
    has = {kind: bool(facts.procedure.stages_of_kind(kind)) for kind in (
        "public_participation", "expert_review", "risk_assessment", "legality_review")}
    for meeting in ctx.evidence:
        present = {
            "draft": facts.current_draft is not None and facts.current_draft.intact,
            "public_opinion_adoption": bool(facts.current_models("public_participation")),
            "expert_opinion_adoption": bool((meeting.expert_opinion_adoption or "").strip()),
            "risk_report": bool(facts.current_models("risk_assessment")),
            "legality_opinion": bool(facts.current_models("legality_review")),
        }
        required = ["draft"] + [m for m, kind in (
            ("public_opinion_adoption", "public_participation"),
            ("expert_opinion_adoption", "expert_review"),
            ("risk_report", "risk_assessment"),
            ("legality_opinion", "legality_review")) if has[kind]]
        for material in required:
            if material not in meeting.materials_received:
                yield f"the meeting record does not list '{material}' among materials_received"
            elif not present[material]:
                yield f"'{material}' is not in the case record"


@gate_rule(id="CD-LEGALITY-REVIEWED", kind=KIND, article="Art. 25",
           summary="No discussion without a legality review of the current draft that found "
                   "it lawful (never replaced by a call for comments)")
def legality_reviewed(ctx: RuleContext) -> Iterator[str]:
    if not ctx.params.requires_legality_review:
        return
    facts = ctx.facts
    reviews = [
        item for stage in facts.procedure.stages_of_kind("legality_review")
        if stage.key in facts.procedure.upstream(ctx.stage.key)
        and facts.status(stage.key) is StageStatus.COMPLETED
        for item in facts.current_evidence(stage.key)
        if item.evidence is not None and item.draft_version == facts.draft_version
        and item.evidence.outcome in ("lawful", "exploratory_reform")  # type: ignore[attr-defined]
    ]
    if not reviews:
        yield (f"draft v{facts.draft_version} has no completed legality review finding it "
               "lawful")


@gate_rule(id="CD-FINAL-DRAFT", kind=KIND, article="Art. 29",
           summary="The meeting decides on the current (final) draft")
def final_draft(ctx: RuleContext) -> Iterator[str]:
    for item in ctx.items:
        if item.draft_version != ctx.facts.draft_version:
            yield (f"evidence #{item.id} concerns draft v{item.draft_version}; the current "
                   f"draft is v{ctx.facts.draft_version}")


@gate_rule(id="CD-DECIDED", kind=KIND, article="Art. 30",
           summary="The meeting reached a decision (approve or reject), not a deferral")
def decided(ctx: RuleContext) -> Iterator[str]:
    for evidence in ctx.evidence:
        if evidence.head_decision == "defer":
            yield "the meeting deferred the decision; record the meeting that decides"
