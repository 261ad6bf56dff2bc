"""Expert argumentation, Decree 713 Art. 19–21."""

from __future__ import annotations

from collections.abc import Iterator

from dueprocess.rules import signatures
from dueprocess.rules.engine import RuleContext, admission_rule, evidence_rule, gate_rule
from models.evidence_schemas import ExpertOpinionEvidence

KIND = "expert_review"


@admission_rule(id="EX-INTEREST-DECLARED", kind=KIND, article="Art. 20", at_assignment=False,
                summary="An expert declares their interests in the case before giving an "
                        "opinion")
def interest_declared(handle: str, ctx: RuleContext) -> Iterator[str]:
    if handle not in ctx.facts.declarations.get(ctx.stage.key, {}):
        yield f"expert '{handle}' has not declared their interests in this case"


@admission_rule(id="EX-INTEREST-EXCLUDED", kind=KIND, article="Art. 20",
                summary="An expert who declared a direct interest cannot be assigned")
def interest_excluded(handle: str, ctx: RuleContext) -> Iterator[str]:
    declaration = ctx.facts.declarations.get(ctx.stage.key, {}).get(handle)
    if declaration is not None and declaration.direct_interest:
        yield (f"expert '{handle}' declared a direct interest ({declaration.interests}) "
               "and is excluded")


@admission_rule(id="EX-INDEPENDENT", kind=KIND, article="Art. 19",
                summary="Experts are independent of the undertaking unit")
def independent(handle: str, ctx: RuleContext) -> Iterator[str]:
    person = ctx.facts.people.get(handle)
    if person is not None and person.unit and person.unit == ctx.facts.undertaking_unit:
        yield f"expert '{handle}' belongs to the undertaking unit '{person.unit}'"


@evidence_rule(id="EX-NO-DIRECT-INTEREST", kind=KIND, article="Art. 20",
               summary="An opinion that declares a direct interest is excluded")
def no_direct_interest(evidence: ExpertOpinionEvidence, ctx: RuleContext) -> Iterator[str]:
    if evidence.direct_interest:
        yield f"expert '{evidence.expert_name}' declared a direct interest and is excluded"


@evidence_rule(id="EX-SIGNED", kind=KIND, article="Art. 19",
               summary="A written opinion is signed: an Ed25519 signature by the expert's "
                       "registered key, or the hash of the signed and sealed scan")
def signed(evidence: ExpertOpinionEvidence, ctx: RuleContext) -> Iterator[str]:
    if evidence.signature_ed25519 is None:
        if evidence.sealed_scan_sha256 is None:
            yield ("the opinion is not signed: give signature_ed25519, or the "
                   "sealed_scan_sha256 of the signed and sealed scan")
        return
    person = ctx.facts.people.get(ctx.recorder or "")
    keys = person.public_keys if person is not None else ()
    if not keys:
        yield f"'{ctx.recorder}' has no registered Ed25519 key to verify the signature with"
    elif not any(signatures.verify(k, evidence.signed_bytes(), evidence.signature_ed25519)
                 for k in keys):
        yield f"signature_ed25519 does not verify with the registered key of '{ctx.recorder}'"


@gate_rule(id="EX-PANEL-NOTE", kind=KIND, article="Art. 20",
           summary="A panel-composition note explains how differing views were included")
def panel_note(ctx: RuleContext) -> Iterator[str]:
    if not ctx.facts.panel_notes.get(ctx.stage.key, "").strip():
        yield ("no panel-composition note: record how experts with differing views were "
               "included")


@gate_rule(id="EX-PANEL-SIZE", kind=KIND, article="Art. 19",
           summary="Written opinions from at least the minimum number of experts")
def panel_size(ctx: RuleContext) -> Iterator[str]:
    count = len(ctx.evidence)
    minimum = ctx.params.min_experts
    if count < minimum:
        yield f"{count} of at least {minimum} expert opinions recorded"
