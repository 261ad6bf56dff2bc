"""Every statutory rule: one case it blocks, naming its article, and one it lets pass.

Each scenario builds the demo case (every rule met) and breaks only what its rule is
about when `broken` is true. `test_rule_blocks[ID]` and `test_rule_passes[ID]` are the
tests the compliance matrix (docs/compliance.md) names for each rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from dueprocess.clock import comment_window_close
from dueprocess.demo import submissions as demo
from dueprocess.rules import (
    RULES,
    admission_problems,
    case_problems,
    evaluate_gate,
    evidence_problems,
)
from dueprocess.rules.engine import STAGE_ARTICLES, Unmet
from dueprocess.rules.facts import (
    CaseFacts,
    DeclarationFact,
    DraftFact,
    HearingFact,
    PersonFact,
    WindowFact,
)
from models.cases import ConsultationCreate
from models.procedure import ProcedureDefinition, load_procedure
from tests.rules.conftest import ASSIGNED, DECIDED, NOW, OPENED_AT, UPSTREAM, FactsFactory
from tests.support import VALID_STEPS

Scenario = Callable[[FactsFactory, bool], list[Unmet]]
SCENARIOS: dict[str, Scenario] = {}
ARTICLES = {rule.id: rule.article for rule in RULES}
BEFORE = {
    "public_participation": (), "expert_review": (), "risk_assessment": (),
    "legality_review": UPSTREAM, "collective_decision": (*UPSTREAM, "legality_review"),
    "publication": DECIDED,
}


def scenario(rule: str) -> Callable[[Scenario], Scenario]:
    def register(build: Scenario) -> Scenario:
        SCENARIOS[rule] = build
        return build
    return register


def history(*stages: str) -> tuple[tuple[Any, ...], ...]:
    """The demo's valid evidence of these stages, each by its recorder."""
    return tuple((stage, evidence, by) for stage, by, evidence in VALID_STEPS if stage in stages)


def submit(make_facts: FactsFactory, stage: str, payload: dict[str, Any], *,
           recorder: str | None = None, **fields: Any) -> list[Unmet]:
    """What refuses a submission: admission and evidence rules."""
    facts = make_facts(completed=BEFORE[stage],
                       evidence=history(*BEFORE[stage]), **fields)
    recorder = recorder or ASSIGNED[stage]
    model = facts.procedure.stage(stage).stage_kind.evidence.model_validate(payload)
    return admission_problems(facts, stage, recorder) + evidence_problems(
        facts, stage, model, NOW, recorded_by=recorder)


def gate(facts: CaseFacts, stage: str, now: datetime = NOW) -> list[Unmet]:
    """What keeps a gate blocked, and what it flags."""
    result = evaluate_gate(facts, stage, now)
    return [*result.unmet, *result.flags]


def stage_gate(make_facts: FactsFactory, stage: str, *evidence: tuple[Any, ...],
               **fields: Any) -> list[Unmet]:
    facts = make_facts(completed=BEFORE[stage],
                       evidence=(*history(*BEFORE[stage]), *evidence), **fields)
    return gate(facts, stage)


def changed(payload: dict[str, Any], broken: bool, **changes: Any) -> dict[str, Any]:
    return {**payload, **changes} if broken else payload


# Start of the procedure, Art. 10–13: judged at opening and at the decision.

@scenario("ST-PROPOSAL")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    facts = make_facts()
    if broken:
        assert facts.proposal is not None
        facts = replace(facts, proposal_source="citizens",
                        proposal=facts.proposal.model_copy(update={"in_writing": False}))
    return case_problems(facts, NOW)


@scenario("ST-UNDERTAKING-UNIT")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return case_problems(make_facts(opened_by="li.wei" if broken else "wang.fang"), NOW)


@scenario("ST-LEGAL-BASIS")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    facts = make_facts()
    return case_problems(replace(facts, legal_basis=()) if broken else facts, NOW)


@scenario("ST-CONSULTATION")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    facts = make_facts()
    if broken:
        facts = replace(facts, consultations=(
            ConsultationCreate(unit="District Finance Bureau", agreed=False),))
    return case_problems(facts, NOW)


# Public participation, Art. 14–18.

PP = "public_participation"
HEARING = demo.HEARING
# What dueprocess witnessed of that hearing: announced on 2026-09-08, its materials
# delivered to the four participants' channels, the last on 2026-09-16 (Beijing).
BEIJING = timezone(timedelta(hours=8))
ANNOUNCED = HearingFact(
    held_on=date(2026, 9, 25), announced_at=datetime(2026, 9, 8, 10, 0, tzinfo=BEIJING),
    participants=tuple(HEARING["participants"]), recipients=4, delivered=4,
    last_delivered_at=datetime(2026, 9, 16, 10, 0, tzinfo=BEIJING))


def with_hearing(make_facts: FactsFactory, hearing: dict[str, Any],
                 *witnessed: HearingFact) -> list[Unmet]:
    return submit(make_facts, PP, {**demo.PARTICIPATION, "hearing": hearing},
                  hearings=witnessed)


def published_window(days: int, reason: str | None = None) -> WindowFact:
    """The comment window dueprocess published: `days` days from the case's opening,
    open until 24:00 of the last."""
    return WindowFact(OPENED_AT, comment_window_close(OPENED_AT, days, "Asia/Shanghai"), reason)


@scenario("PP-WINDOW-LENGTH")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    # A 19-day window was published; only a reason published with it makes it lawful
    # (a reason typed into the evidence afterwards does not).
    typed = {**demo.PARTICIPATION_SHORT_WINDOW, "shortened_reason": "Fees must start with "
             "the school year", "shortened_reason_published": True}
    return submit(make_facts, PP, typed, comment_window=published_window(
        19, None if broken else "Fees must start with the school year"))


@scenario("PP-WINDOW-AS-PUBLISHED")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    # The officer types a window other than the one dueprocess published (2026-09-01 to
    # 2026-10-01).
    return submit(make_facts, PP, changed(demo.PARTICIPATION, broken,
                                          window_closes="2026-09-20"))


@scenario("PP-SHORTENED-REASON-AS-PUBLISHED")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    # dueprocess published a 19-day window with its reason; the evidence may repeat that
    # reason (whitespace aside), never type another one. Nor may it claim a reason was
    # published with a 30-day call that published none.
    published = "Fees must start with the school year"
    typed = {**demo.PARTICIPATION_SHORT_WINDOW, "shortened_reason_published": True,
             "shortened_reason": "Urgent: the council meets next week" if broken
             else f"  {published}\n"}
    claimed = changed(demo.PARTICIPATION, broken, shortened_reason_published=True)
    return (submit(make_facts, PP, typed, comment_window=published_window(19, published))
            + submit(make_facts, PP, claimed))


@scenario("EV-DATE-WITNESSED")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    # A risk report "assessed" before the case was opened, and one dated in the future.
    early = submit(make_facts, RA, changed(demo.RISK, broken, assessed_on="2026-08-31"))
    future = submit(make_facts, RA, changed(demo.RISK, broken, assessed_on="2026-11-27"))
    return early + future


@scenario("PP-CALL-MATERIALS")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return submit(make_facts, PP, changed(demo.PARTICIPATION, broken,
                                          published_materials=["draft"]))


@scenario("PP-GROUPS-CONSULTED")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return submit(make_facts, PP, changed(demo.PARTICIPATION, broken, groups_consulted=[]))


@scenario("PP-HEARING-ANNOUNCED")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    if not broken:
        return with_hearing(make_facts, HEARING, ANNOUNCED)
    # Typed as published on the day of the hearing; a hearing dueprocess never announced;
    # participants other than those announced.
    return (with_hearing(make_facts, {**HEARING, "participants_published_on": "2026-09-25"},
                         ANNOUNCED)
            + with_hearing(make_facts, HEARING)
            + with_hearing(make_facts, {**HEARING, "participants": ["Resident Gao"],
                                        "record_signed_by": ["Resident Gao"]}, ANNOUNCED))


@scenario("PP-HEARING-MATERIALS")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    if not broken:
        return with_hearing(make_facts, HEARING, ANNOUNCED)
    late = replace(ANNOUNCED, last_delivered_at=datetime(2026, 9, 20, 10, 0, tzinfo=BEIJING))
    # Delivered 5 days before the 25th; one channel never reached; a typed date that
    # contradicts the recorded delivery.
    return (with_hearing(make_facts, {**HEARING, "materials_sent_on": "2026-09-20"}, late)
            + with_hearing(make_facts, HEARING, replace(ANNOUNCED, delivered=3))
            + with_hearing(make_facts, {**HEARING, "materials_sent_on": "2026-09-10"},
                           ANNOUNCED))


@scenario("PP-HEARING-RECORD-SIGNED")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return with_hearing(make_facts, changed(HEARING, broken,
                                            record_signed_by=HEARING["record_signed_by"][1:]),
                        ANNOUNCED)


@scenario("PP-RESPONSE-REASONS")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    responses = [dict(r) for r in demo.PARTICIPATION["responses"]]
    responses[2]["reason"] = ""
    return submit(make_facts, PP, changed(demo.PARTICIPATION, broken, responses=responses))


@scenario("PP-EVERY-OPINION-ANSWERED")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return stage_gate(make_facts, PP, (PP, changed(demo.PARTICIPATION, broken,
                                                   opinions_received=500)))


@scenario("PP-PROPOSALS-ANSWERED")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    # A programme list case: dueprocess holds the year's proposals #7 and #9. The broken
    # statement answers #7 only, and counts one opinion fewer than it holds.
    answers = [{"cluster": f"Proposal #{n} (traffic, Zhongguancun)", "opinions": 1,
                "response": "not_adopted", "reason": "Fewer votes than the listed matters."}
               for n in ((7,) if broken else (7, 9))]
    payload = {**demo.PARTICIPATION, "responses": [*demo.PARTICIPATION["responses"], *answers],
               "opinions_received": demo.PARTICIPATION["opinions_received"] + len(answers)}
    if broken:
        payload["opinions_received"] = 1
        payload["responses"] = answers
    return submit(make_facts, PP, payload, held_proposals=(7, 9))


@scenario("PP-WINDOW-CLOSED")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    # Broken: dueprocess published a window still open on the case clock (it was extended
    # to 2026-12-15); whatever the evidence types, the gate waits for it.
    facts = make_facts(evidence=((PP, demo.PARTICIPATION),))
    if broken:
        facts = replace(facts, comment_window=WindowFact(
            OPENED_AT, datetime(2026, 12, 15, tzinfo=UTC)))
    return gate(facts, PP)


# Expert argumentation, Art. 19–21.

EX = "expert_review"
ZHANG, CHEN = demo.EXPERTS["prof.zhang"], demo.EXPERTS["prof.chen"]


def declarations(make_facts: FactsFactory, **by_handle: DeclarationFact | None
                 ) -> dict[str, dict[str, DeclarationFact]]:
    current = dict(make_facts().declarations[EX])
    for handle, declaration in by_handle.items():
        if declaration is None:
            current.pop(handle, None)
        else:
            current[handle] = declaration
    return {EX: current}


@scenario("EX-INTEREST-DECLARED")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    fields: dict[str, Any] = {
        "declarations": declarations(make_facts, **{"prof.zhang": None})} if broken else {}
    return submit(make_facts, EX, ZHANG, **fields)


@scenario("EX-INTEREST-EXCLUDED")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    interested = DeclarationFact(True, "Shareholder of the parking operator", date(2026, 9, 5))
    fields: dict[str, Any] = {
        "declarations": declarations(make_facts, **{"prof.zhang": interested})}
    return submit(make_facts, EX, ZHANG, **(fields if broken else {}))


@scenario("EX-INDEPENDENT")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    people: dict[str, Any] = dict(make_facts().people)
    people["prof.zhang"] = replace(people["prof.zhang"], unit="District Urban Management "
                                   "Commission")
    fields: dict[str, Any] = {"people": people} if broken else {}
    return submit(make_facts, EX, ZHANG, **fields)


@scenario("EX-NO-DIRECT-INTEREST")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return submit(make_facts, EX, changed(CHEN, broken, direct_interest=True),
                  recorder="prof.chen")


@scenario("EX-SIGNED")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    # The signature no longer covers the opinion once its text is changed.
    return submit(make_facts, EX, changed(ZHANG, broken, opinion="Peak pricing is fine."))


@scenario("EX-PANEL-NOTE")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return stage_gate(make_facts, EX, *history(EX), **({"panel_notes": {}} if broken else {}))


@scenario("EX-PANEL-SIZE")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    opinions = history(EX)
    return stage_gate(make_facts, EX, *(opinions[:2] if broken else opinions))


# Risk assessment, Art. 22–24.

RA = "risk_assessment"
RA_ARTICLES = "Decree 713 Art. 22–24"
RISKY = {**demo.RISK, "controllable": False}


@scenario("RA-REPORT-CONTENTS")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return submit(make_facts, RA, changed(demo.RISK, broken, departments_consulted=[]))


@scenario("RA-CONTROLLABLE")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return stage_gate(make_facts, RA, (RA, RISKY if broken else demo.RISK))


@scenario("RA-REASSESSED-ON-REVISED-DRAFT")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    # Not controllable on draft v1, then controllable on v1 again (broken) or on v2.
    draft = 1 if broken else 2
    procedure = no_reopening(load_procedure("decree-713"), RA)
    return stage_gate(make_facts, RA, (RA, RISKY, "liu.yang", 1),
                      (RA, demo.RISK, "liu.yang", draft), draft_version=draft,
                      drafts=(DraftFact(1, "a" * 64), DraftFact(2, "b" * 64)),
                      procedure=procedure)


def no_reopening(procedure: ProcedureDefinition, *keys: str) -> ProcedureDefinition:
    """The procedure with `keys` not reopened by a revision (the statutory rules still
    require their evidence to concern the right draft)."""
    data = procedure.model_dump(mode="json")
    for stage in data["stages"]:
        if stage["key"] in keys:
            stage["reopen_on_revision"] = False
    return ProcedureDefinition.model_validate(data)


# Legality review, Art. 25–28.

LR = "legality_review"


@scenario("LR-NOT-UNDERTAKING-UNIT")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    people: dict[str, Any] = dict(make_facts().people)
    people["sun.hao"] = replace(people["sun.hao"], unit="District Urban Management Commission")
    fields: dict[str, Any] = {"people": people} if broken else {}
    return submit(make_facts, LR, demo.LEGALITY, **fields)


@scenario("LR-EXPLORATORY-RISK")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    reform = {**demo.LEGALITY, "outcome": "exploratory_reform",
              "legal_risk_statement": "National rules are silent on kerbside zone pricing."}
    return submit(make_facts, LR, changed(reform, broken, legal_risk_statement=None))


@scenario("LR-REVIEW-PERIOD")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    # Witnessed: the package went out when the stage opened (2026-10-15); recorded on
    # 2026-10-20 the opinion had 3 working days, whatever dates it types.
    facts = make_facts(completed=UPSTREAM, evidence=history(*UPSTREAM))
    recorded = datetime(2026, 10, 20, 2, 0, tzinfo=UTC) if broken else NOW
    payload = changed(demo.LEGALITY, broken, received_on="2026-10-15",
                      issued_on="2026-10-20")
    model = facts.procedure.stage(LR).stage_kind.evidence.model_validate(payload)
    return evidence_problems(facts, LR, model, recorded, recorded_by="sun.hao")


@scenario("LR-REVISED-DRAFT")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    # Draft v1 was found unlawful; a 'lawful' opinion counts only on the revised draft v2.
    unlawful = (LR, {**demo.LEGALITY, "outcome": "unlawful"}, "sun.hao", 1)
    facts = make_facts(completed=UPSTREAM, evidence=(*history(*UPSTREAM), unlawful),
                       draft_version=1 if broken else 2)
    model = facts.procedure.stage(LR).stage_kind.evidence.model_validate(demo.LEGALITY)
    return evidence_problems(facts, LR, model, NOW, recorded_by="sun.hao")


@scenario("LR-REVIEW-SCOPE")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return submit(make_facts, LR, changed(demo.LEGALITY, broken, review_covers=["content"]))


@scenario("LR-ADVISERS")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return submit(make_facts, LR, changed(demo.LEGALITY, broken, advisers_consulted=[]))


def damaged(facts: CaseFacts, stage: str) -> CaseFacts:
    """The snapshot with the first evidence item of `stage` failing its hash."""
    first = next(i for i in facts.evidence if i.stage_key == stage)
    return replace(facts, evidence=tuple(
        replace(i, evidence=None) if i is first else i for i in facts.evidence))


@scenario("LR-PACKAGE-COMPLETE")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    facts = make_facts(completed=UPSTREAM, evidence=(*history(*UPSTREAM), (LR, demo.LEGALITY)))
    return gate(damaged(facts, RA) if broken else facts, LR)


@scenario("LR-FINAL-DRAFT")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    drafts = (DraftFact(1, "a" * 64), DraftFact(2, "b" * 64))
    return stage_gate(make_facts, LR, (LR, demo.LEGALITY, "sun.hao", 1 if broken else 2),
                      draft_version=2, drafts=drafts,
                      procedure=no_reopening(load_procedure("decree-713"), RA, LR))


@scenario("LR-LAWFUL")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return stage_gate(make_facts, LR, (LR, changed(demo.LEGALITY, broken, outcome="unlawful")))


@scenario("LR-REVISE-SENT-BACK")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return stage_gate(make_facts, LR, (LR, changed(demo.LEGALITY, broken, outcome="revise")))


# Collective discussion and decision, Art. 29–30 (and Art. 25 before it).

CD = "collective_decision"
MEETING = demo.MEETING


@scenario("CD-AFTER-LEGALITY-OPINION")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    # dueprocess recorded the legality opinion on 2026-11-13: a meeting "held" on the 12th
    # discussed a draft not yet reviewed.
    return submit(make_facts, CD, changed(MEETING, broken, held_on="2026-11-12"))


@scenario("CD-MEETING-TYPE")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return submit(make_facts, CD, changed(MEETING, broken, meeting_type="office"))


@scenario("CD-QUORUM")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return submit(make_facts, CD, changed(
        MEETING, broken, members_present=["lin.mayor", "he.deputy"],
        statements=[s for s in MEETING["statements"] if s["speaker"] in ("lin.mayor",
                                                                         "he.deputy")],
        dissent=[]))


@scenario("CD-HEAD-DECIDES")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return submit(make_facts, CD, changed(MEETING, broken, head="he.deputy"))


@scenario("CD-SPEAKERS-PRESENT")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return submit(make_facts, CD, changed(
        MEETING, broken, members_present=["guo.deputy", "ma.director", "lin.mayor"]))


@scenario("CD-HEAD-LAST")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    statements = MEETING["statements"]
    return submit(make_facts, CD, changed(MEETING, broken,
                                          statements=[statements[-1], *statements[:-1]]))


@scenario("CD-REASONS-AGAINST-MAJORITY")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    against = [{**s, "position": "against"} if s["speaker"] == "he.deputy" else s
               for s in MEETING["statements"]]
    meeting = {**MEETING, "statements": against, "dissent": [
        *MEETING["dissent"], {"member": "he.deputy", "text": "Supports a 6-month review."}]}
    reasons = "Fees start with a 6-month review, which answers the concerns raised."
    return submit(make_facts, CD, changed(meeting, not broken, reasons_against_majority=reasons))


@scenario("CD-DISSENT-RECORDED")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return submit(make_facts, CD, changed(MEETING, broken, dissent=[]))


@scenario("CD-DISSENT-VERBATIM")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return submit(make_facts, CD, changed(MEETING, broken, dissent=[
        {"member": "ma.director", "text": "Director Ma had some reservations."}]))


@scenario("CD-MATERIALS")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    materials = [m for m in MEETING["materials_received"] if m != "risk_report"]
    return stage_gate(make_facts, CD, (CD, changed(MEETING, broken,
                                                   materials_received=materials)))


@scenario("CD-LEGALITY-REVIEWED")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    # The stage order was forced open (e.g. a hand-edited row): the decision gate itself
    # still wants a lawful review of the current draft.
    upstream = (*history(*UPSTREAM), *([] if broken else [(LR, demo.LEGALITY)]))
    facts = make_facts(completed=BEFORE[CD], evidence=(*upstream, (CD, MEETING)))
    return gate(facts, CD)


@scenario("CD-FINAL-DRAFT")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    drafts = (DraftFact(1, "a" * 64), DraftFact(2, "b" * 64))
    evidence = (*history(*UPSTREAM), (LR, demo.LEGALITY, "sun.hao", 2),
                (CD, MEETING, "zhao.li", 1 if broken else 2))
    facts = make_facts(completed=BEFORE[CD], evidence=evidence, draft_version=2,
                       drafts=drafts,
                       procedure=no_reopening(load_procedure("decree-713"), RA, LR, CD))
    return gate(facts, CD)


@scenario("CD-DECIDED")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return stage_gate(make_facts, CD, (CD, changed(MEETING, broken, head_decision="defer")))


# Publication, Art. 31–32, and the archive, Art. 33.

PB = "publication"


@scenario("PB-OFFICIAL-CHANNEL")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return submit(make_facts, PB, changed(demo.PUBLICATION, broken, channels=["media"]))


@scenario("PB-AFTER-DECISION")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return submit(make_facts, PB, changed(demo.PUBLICATION, broken, published_on="2026-11-19",
                                          party_committee_consulted_on="2026-11-18"))


@scenario("PB-ADOPTION-EXPLAINED")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return submit(make_facts, PB, changed(demo.PUBLICATION, broken,
                                          expert_adoption_explanation=None))


@scenario("PB-PARTY-CONSULTED")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return submit(make_facts, PB, changed(demo.PUBLICATION, broken,
                                          party_committee_consulted_on=None))


@scenario("PB-ON-TIME")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    # The meeting's record arrived on 2026-11-20; due within 15 days: a publication that
    # dueprocess records on 12-10 is late (its typed date cannot make it timely).
    facts = make_facts(completed=BEFORE[PB], evidence=(*history(*BEFORE[PB]),
                                                       (PB, demo.PUBLICATION)))
    now = datetime(2026, 12, 10, 2, 0, tzinfo=UTC) if broken else NOW
    facts = replace(facts, evidence=tuple(replace(e, recorded_at=now) if e.stage_key == PB
                                          else e for e in facts.evidence))
    return gate(facts, PB, now)


@scenario("AR-DOSSIER-COMPLETE")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    facts = make_facts(completed=DECIDED, evidence=(*history(*DECIDED),
                                                    (PB, demo.PUBLICATION)))
    if broken:  # the risk report's attachment is not in the archive
        facts = replace(facts, evidence=tuple(
            replace(i, documents=("ab" * 32,)) if i.stage_key == RA else i
            for i in facts.evidence))
    return gate(facts, PB)


# Filing a normative document.

FILING = {"filed_with": "Beijing Municipal Justice Bureau", "filed_on": "2026-12-01",
          "filing_number": "BJ-2026-0456"}


def normative_facts(make_facts: FactsFactory, filing: dict[str, Any],
                    published_on: str = "2026-11-24") -> CaseFacts:
    procedure = load_procedure("normative-document")
    people = {**make_facts().people,
              "xu.bei": PersonFact("xu.bei", "Xu Bei", "filing_officer", "District Justice Bureau")}
    assignments = {**{k: frozenset({v}) for k, v in ASSIGNED.items()},
                   "filing": frozenset({"xu.bei"})}
    evidence = ((LR, demo.LEGALITY), (CD, MEETING),
                (PB, {**demo.PUBLICATION, "published_on": published_on}),
                ("filing", filing, "xu.bei"))
    return make_facts(procedure=procedure, people=people, assignments=assignments,
                      completed=(LR, CD, PB), evidence=evidence)


@scenario("FL-AFTER-PUBLICATION")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    # Filed before the typed publication date; and filed after a typed publication date
    # but before dueprocess recorded the publication (2026-11-24).
    before_typed = gate(normative_facts(make_facts, changed(FILING, broken,
                                                            filed_on="2026-11-23")), "filing")
    before_recorded = gate(normative_facts(
        make_facts, changed(FILING, broken, filed_on="2026-11-22"), published_on="2026-11-21"),
        "filing")
    return before_typed + before_recorded


@scenario("FL-ON-TIME")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    # dueprocess recorded the publication on 2026-11-24; due within 30 days.
    return gate(normative_facts(make_facts, changed(FILING, broken, filed_on="2026-12-30")),
                "filing", now=datetime(2027, 1, 5, tzinfo=UTC))


# Replying to a judicial or procuratorial recommendation.

RECOMMENDATION = load_procedure("recommendation-reply")
ASSIGNMENT = {"department": "District Housing Bureau", "responsible": "zhou.kai",
              "assigned_on": "2026-09-02"}
REPLY = {"replied_on": "2026-10-20", "outcome": "adopted",
         "reply_text": "The bureau inspected all 14 lifts the recommendation names."}
REPLIED_AT = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)  # received 2026-09-01, due 10-31
REPLIERS = {"zhou.kai": "Zhou Kai", "tang.yue": "Tang Yue"}  # the bureau's officials


def recommendation_facts(make_facts: FactsFactory, *, reply: dict[str, Any] | None = None,
                         replied_at: datetime = REPLIED_AT) -> CaseFacts:
    people = {**make_facts().people, **{h: PersonFact(h, name, "official",
                                                      "District Housing Bureau")
                                        for h, name in REPLIERS.items()}}
    evidence: tuple[tuple[Any, ...], ...] = (("assignment", ASSIGNMENT, "wang.fang"),)
    if reply is not None:
        evidence += (("reply", reply, "zhou.kai"),)
    facts = make_facts(procedure=RECOMMENDATION, people=people, completed=("assignment",),
                       assignments={"assignment": frozenset({"wang.fang"}),
                                    "reply": frozenset(REPLIERS)}, evidence=evidence)
    return replace(facts, evidence=tuple(replace(e, recorded_at=replied_at)
                                         if e.stage_key == "reply" else e
                                         for e in facts.evidence))


@scenario("RC-ASSIGNED-OFFICIAL")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    facts = recommendation_facts(make_facts)
    # li.wei is the participation officer, not an official of the housing bureau.
    model = RECOMMENDATION.stage("assignment").stage_kind.evidence.model_validate(
        changed(ASSIGNMENT, broken, responsible="li.wei"))
    return evidence_problems(facts, "assignment", model, NOW, recorded_by="wang.fang")


@scenario("RC-REPLY-BY-ASSIGNED")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    facts = recommendation_facts(make_facts)
    # Both may reply for the bureau; the assignment named zhou.kai.
    return admission_problems(facts, "reply", "tang.yue" if broken else "zhou.kai")


@scenario("RC-REASONS-IF-NOT-ADOPTED")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    facts = recommendation_facts(make_facts)
    model = RECOMMENDATION.stage("reply").stage_kind.evidence.model_validate(
        changed(REPLY, broken, outcome="partly_adopted"))
    return evidence_problems(facts, "reply", model, NOW, recorded_by="zhou.kai")


@scenario("RC-REPLY-ON-TIME")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    # Typed as 10-20, but dueprocess recorded it on 11-05: five days late.
    late = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
    replied = gate(recommendation_facts(make_facts, reply=REPLY,
                                        replied_at=late if broken else REPLIED_AT), "reply")
    # And no reply at all once the period has passed, on the case's clock.
    waiting = gate(recommendation_facts(make_facts), "reply",
                   now=datetime(2026, 11, 2, tzinfo=UTC) if broken else REPLIED_AT)
    return replied + [u for u in waiting if u.rule == "RC-REPLY-ON-TIME"]


# Evaluation after the decision, Art. 36–37.

EVALUATION_PROCEDURE = load_procedure("decision-evaluation")
EVALUATION = {"evaluated_by": "Beijing Transport Institute", "third_party": True,
              "method": "Counts at 40 sites; a survey of 1,200 residents.",
              "public_opinions_heard": 1200, "participants": ["deputies"],
              "findings": "Turnover rose by a third.", "conclusion": "continue",
              "concluded_on": "2026-11-20"}


def evaluation_problems(make_facts: FactsFactory, evaluation: dict[str, Any]) -> list[Unmet]:
    facts = make_facts(procedure=EVALUATION_PROCEDURE,
                       assignments={"evaluation": frozenset({"dr.zhou"})})
    model = EVALUATION_PROCEDURE.stage("evaluation").stage_kind.evidence.model_validate(
        evaluation)
    return evidence_problems(facts, "evaluation", model, NOW, recorded_by="dr.zhou")


@scenario("EVAL-PUBLIC-HEARD")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return evaluation_problems(make_facts, changed(EVALUATION, broken,
                                                   public_opinions_heard=0, participants=[]))


@scenario("EVAL-BY-ITS-UNIT")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    # dr.zhou is of the Beijing Transport Institute.
    return evaluation_problems(make_facts, changed(EVALUATION, broken,
                                                   evaluated_by="Tsinghua University"))


@scenario("EVAL-CONCLUSION-REASONED")
def _(make_facts: FactsFactory, broken: bool) -> list[Unmet]:
    return evaluation_problems(make_facts, changed(EVALUATION, broken, conclusion="stop"))


# The tests the compliance matrix names.

def test_every_registered_rule_has_a_scenario() -> None:
    assert sorted(SCENARIOS) == sorted(ARTICLES)


@pytest.mark.parametrize("rule", sorted(SCENARIOS))
def test_rule_blocks(rule: str, make_facts: FactsFactory) -> None:
    problems = [u for u in SCENARIOS[rule](make_facts, True) if u.rule == rule]
    assert problems, f"{rule} did not fire"
    # A rule of every stage cites the articles of the stage it judges.
    article = RA_ARTICLES if ARTICLES[rule] == STAGE_ARTICLES else ARTICLES[rule]
    assert all(u.article == article and article in str(u) for u in problems)


@pytest.mark.parametrize("rule", sorted(SCENARIOS))
def test_rule_passes(rule: str, make_facts: FactsFactory) -> None:
    assert SCENARIOS[rule](make_facts, False) == []
