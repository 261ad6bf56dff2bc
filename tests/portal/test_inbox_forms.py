"""The inbox form's evidence with what dueprocess holds put in by the server: the posted
copy of a known value is never read, answers beside known rows are checked field by field
(the problem names the field), and the counts are dueprocess's own."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from starlette.datastructures import FormData

from models.evidence_schemas import CollectiveDecisionEvidence, PublicParticipationEvidence
from portal.inbox.forms import FormProblem, evidence_from_form
from portal.inbox.prefill import Known, Member, OpinionRow, Prefill, Roster

HEARING = {"held_on": "2026-09-25", "selection_method_published_on": "2026-09-08",
           "participants_published_on": "2026-09-08", "materials_sent_on": None,
           "participants": ["Resident Gao", "Nurse Feng"]}
PARTICIPATION = Prefill(
    known={"hearing": Known("hearing", HEARING, "", ""),
           "window_closes": Known("window_closes", "2026-10-01", "", "")},
    opinions=(OpinionRow("campaign-A1: fees too high", 40, ""),
              OpinionRow("R-7: more bicycle parking", 1, "")),
    hearing=("Resident Gao", "Nurse Feng"))
ROSTER = Prefill(known={"head": Known("head", "lin.mayor", "Mayor Lin", "")},
                 roster=Roster((Member("guo.deputy", "Guo", False),
                                Member("lin.mayor", "Lin", True)), quorum=2))


def built(model: Any, prefill: Prefill, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    form = FormData([(name, value) for name, value in pairs])  # str | UploadFile values
    return asyncio.run(evidence_from_form(model, form, max_document_bytes=1000,
                                          prefill=prefill))


def test_the_hearing_and_the_answers_are_built_by_the_server() -> None:
    evidence = built(PublicParticipationEvidence, PARTICIPATION, [
        ("hearing", '{"held_on": "2026-09-01"}'), ("window_closes", "2026-09-20"),
        ("opinions_received", "1"),
        ("record_signed_by", "Resident Gao"), ("record_signed_by", "Mallory"),
        ("answer.0", "not_adopted"), ("reason.0", "The fee covers costs."),
        ("answer.1", "adopted"), ("reason.1", "Planned."),
        ("responses", '[{"cluster": "Letters", "opinions": 3, "response": "adopted", '
                      '"reason": "Agreed."}]')])
    assert evidence["hearing"] == {**{k: v for k, v in HEARING.items() if v is not None},
                                   "record_signed_by": ["Resident Gao"]}  # not Mallory
    assert evidence["window_closes"] == "2026-10-01"
    assert evidence["opinions_received"] == 44  # 40 + 1 on the portal, 3 letters
    assert [(r["cluster"], r["opinions"]) for r in evidence["responses"]] == [
        ("campaign-A1: fees too high", 40), ("R-7: more bicycle parking", 1), ("Letters", 3)]
    PublicParticipationEvidence.model_validate({  # the schema takes what was built
        **evidence, "call_published_on": "2026-09-01", "call_url": "https://x.example/c",
        "window_opens": "2026-09-01", "adoption_statement": "Answered."})


@pytest.mark.parametrize(("pairs", "named"), [
    ([("answer.0", "maybe")], "responses.0: 'maybe' is not one of"),
    ([("reason.1", "Why not")], "responses.1: a reason without an answer"),
    ([("responses", '{"cluster": "x"}')], "responses: the answers to opinions received "
                                          "outside the portal must be a JSON list"),
])
def test_a_bad_answer_is_named_by_its_field(pairs: list[tuple[str, str]], named: str) -> None:
    with pytest.raises(FormProblem, match=re.escape(named)):
        built(PublicParticipationEvidence, PARTICIPATION, pairs)


def test_the_meeting_is_built_from_the_roster() -> None:
    evidence = built(CollectiveDecisionEvidence, ROSTER, [
        ("head", "guo.deputy"), ("members_present", '["mallory"]'),
        ("present.guo.deputy", "on"), ("position.guo.deputy", "against"),
        ("statement.guo.deputy", "Too narrow."), ("dissent.guo.deputy", "Too narrow."),
        ("present.lin.mayor", "on"), ("position.lin.mayor", "for"),
        ("statement.lin.mayor", "Approved."), ("present.mallory", "on")])
    assert evidence["head"] == "lin.mayor"
    assert evidence["members_present"] == ["guo.deputy", "lin.mayor"]
    assert evidence["statements"] == [
        {"speaker": "guo.deputy", "position": "against", "text": "Too narrow."},
        {"speaker": "lin.mayor", "position": "for", "text": "Approved."}]
    assert evidence["dissent"] == [{"member": "guo.deputy", "text": "Too narrow."}]
    with pytest.raises(FormProblem, match=re.escape("statements.guo.deputy: a position without")):
        built(CollectiveDecisionEvidence, ROSTER, [("position.guo.deputy", "for")])
    with pytest.raises(FormProblem, match=re.escape("statements.lin.mayor: the position must be")):
        built(CollectiveDecisionEvidence, ROSTER, [("statement.lin.mayor", "Approved.")])
