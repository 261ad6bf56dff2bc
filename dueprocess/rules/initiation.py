"""Starting the procedure, Decree 713 Art. 10–13: judged when a case opens and again
before it is decided."""

from __future__ import annotations

from collections.abc import Iterator

from dueprocess.rules.engine import CASE, RuleContext, gate_rule
from models.people import Role

STUDIED_SOURCES = ("leader", "deputies", "citizens")  # Art. 10 (1) and (3): studied by a unit
WRITTEN_SOURCES = ("deputies", "citizens")  # proposals, motions and written proposals


@gate_rule(id="ST-PROPOSAL", kind=CASE, article="Art. 10",
           summary="The proposal is recorded, studied as its source requires, and in writing "
                   "when it comes from citizens or deputies")
def proposal(ctx: RuleContext) -> Iterator[str]:
    facts = ctx.facts
    if facts.proposal is None:
        yield (f"no proposal recorded for a '{facts.proposal_source}' proposal: state the "
               "problem, the reasons and basis, and the initial plan")
        return
    if facts.proposal_source in STUDIED_SOURCES and not facts.proposal.studied_by.strip():
        yield (f"a '{facts.proposal_source}' proposal is studied by a unit before the organ "
               "decides to start: proposal.studied_by is empty")
    if facts.proposal_source in WRITTEN_SOURCES and not facts.proposal.in_writing:
        yield f"a '{facts.proposal_source}' proposal must be made in writing"


@gate_rule(id="ST-UNDERTAKING-UNIT", kind=CASE, article="Art. 11",
           summary="The organ names the undertaking unit, whose official opens the case")
def undertaking_unit(ctx: RuleContext) -> Iterator[str]:
    facts = ctx.facts
    opener = facts.people.get(facts.opened_by)
    if not facts.undertaking_unit.strip():
        yield "no undertaking unit is named"
    elif opener is None:
        yield f"the case was opened by '{facts.opened_by}', who is not registered"
    elif opener.role != Role.OFFICIAL or opener.unit != facts.undertaking_unit:
        yield (f"the case was opened by '{facts.opened_by}' ({opener.role}, "
               f"{opener.unit or 'no unit'}), not by an official of the undertaking unit "
               f"'{facts.undertaking_unit}'")


@gate_rule(id="ST-LEGAL-BASIS", kind=CASE, article="Art. 12",
           summary="The draft is prepared with the laws, regulations and policies it rests on")
def legal_basis(ctx: RuleContext) -> Iterator[str]:
    facts = ctx.facts
    if not [b for b in facts.legal_basis if b.strip()]:
        yield "the draft lists no legal basis"
    elif any(not b.strip() for b in facts.legal_basis):
        yield "the legal basis has a blank entry"
    draft = facts.current_draft
    if draft is not None and not draft.intact:
        yield f"draft v{draft.version} no longer matches its recorded hash"


@gate_rule(id="ST-CONSULTATION", kind=CASE, article="Art. 13",
           summary="A consulted unit that disagrees has the dispute explained to the organ")
def consultation(ctx: RuleContext) -> Iterator[str]:
    for consulted in ctx.facts.consultations:
        if not consulted.agreed and not (consulted.disagreement or "").strip():
            yield (f"unit '{consulted.unit}' did not agree, and the main issues and both "
                   "views are not stated")
