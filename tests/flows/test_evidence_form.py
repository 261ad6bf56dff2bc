"""The resume form: a section per open stage only, a description of the gate, no internal
field, explicit yes/no choices; and what a reviewer sees when a submission is refused."""

from __future__ import annotations

import json
import time
from typing import Any
from uuid import UUID

import pytest

from dueprocess.demo import submissions
from dueprocess.i18n import gettext
from dueprocess.orchestration.evidence_form import (
    EvidenceSubmission,
    choices_of,
    evidence_from_form,
    form_values,
    submission_form,
)
from dueprocess.orchestration.gate_description import describe_gate
from models.evidence_titles import CHOICES, TITLES
from models.procedure import load_procedure
from tests.rules.conftest import demo_request, make_facts, procedure  # noqa: F401 (fixtures)
from tests.support import advance_to_step, form_code_for, startups

PROCEDURE = load_procedure("decree-713")


def _schema(stage_keys: list[str]) -> dict[str, Any]:
    """The schema as Prefect stores it for the UI and checks resumes against."""
    from prefect.input.run_input import create_v2_schema

    form = submission_form(PROCEDURE, stage_keys)
    return create_v2_schema(form.__name__, model_base=form)


def test_the_form_has_a_section_for_each_open_stage_and_nothing_else() -> None:
    form = submission_form(PROCEDURE, ["public_participation", "expert_review"])
    sections = [n for n in form.model_fields if n not in EvidenceSubmission.COMMON_FIELDS]
    assert sections == ["public_participation", "expert_review"]
    schema = _schema(["public_participation", "expert_review"])
    assert list(schema["properties"]) == ["recorded_by", "proof", "public_participation",
                                          "expert_review"]
    assert schema["required"] == ["recorded_by", "proof"]  # the proof, as the rules need


def test_the_idempotency_key_is_generated_not_shown() -> None:
    schema = json.dumps(_schema(["risk_assessment"]))
    assert "idempotency" not in schema.lower()
    form = submission_form(PROCEDURE, ["risk_assessment"])
    assert form.model_validate({"recorded_by": "liu.yang", "proof": "fc_x"}).idempotency_key \
        is None  # the gate records under its own key (`<case>-<gate>`)


def test_the_internal_reference_is_accepted_but_not_shown() -> None:
    schema = _schema(["risk_assessment"])
    assert "recorded_evidence_id" not in json.dumps(schema)
    assert "Recorded Evidence Id" not in json.dumps(schema)
    # The server checks resumes against this schema: it must let `record`'s reference in.
    assert schema.get("additionalProperties") is not False
    form = submission_form(PROCEDURE, ["risk_assessment"])
    received = form.model_validate({"recorded_by": "liu.yang", "proof": "evidence-reference",
                                    "recorded_evidence_id": 42})
    assert received.recorded_evidence_id == 42


def test_required_booleans_are_an_explicit_yes_or_no() -> None:
    schema = _schema(["expert_review", "risk_assessment"])
    definitions = schema.get("definitions") or schema["$defs"]
    for section, field in (("ExpertOpinionEvidenceForm", "direct_interest"),
                           ("RiskAssessmentEvidenceForm", "controllable")):
        prop = definitions[section]["properties"][field]
        target = definitions[prop["$ref"].rsplit("/", 1)[1]] if "$ref" in prop else prop
        assert target["enum"] == ["是", "否"], (section, target)  # the form's zh-CN
        assert field in definitions[section]["required"]
    # An optional boolean with a default stays a plain boolean (a toggle shows its default).
    participation = definitions.get("PublicParticipationEvidenceForm")
    assert participation is None or participation["properties"][
        "specific_groups_affected"]["type"] == "boolean"


def test_a_choice_goes_back_to_the_boolean_the_evidence_schema_expects() -> None:
    form = submission_form(PROCEDURE, ["risk_assessment"])
    risk = form_values(PROCEDURE, "risk_assessment", submissions.RISK)
    received = form.model_validate({"recorded_by": "liu.yang", "proof": "fc_x",
                                    "risk_assessment": risk})
    data = evidence_from_form(PROCEDURE, received.model_dump(mode="json"))
    assert data["risk_assessment"]["controllable"] is True
    assert evidence_from_form(PROCEDURE, {"risk_assessment": {"controllable": "no"}})[
        "risk_assessment"]["controllable"] is False
    assert form_values(PROCEDURE, "risk_assessment", submissions.RISK)["controllable"] == (
        "是" if submissions.RISK["controllable"] else "否")
    assert data["risk_assessment"] == submissions.RISK  # every choice back as stored
    # A value that is neither is left for the rules to refuse, not guessed.
    assert evidence_from_form(PROCEDURE, {"risk_assessment": {"controllable": "maybe"}})[
        "risk_assessment"]["controllable"] == "maybe"


def test_choices_are_shown_in_words_and_go_back_to_their_values() -> None:
    schema = json.dumps(_schema(["risk_assessment", "legality_review"]), ensure_ascii=False)
    assert "社会稳定" in schema and "social_stability" not in schema
    assert "合法" in schema and '"lawful"' not in schema
    shown = form_values(PROCEDURE, "risk_assessment", submissions.RISK)
    assert all(area not in submissions.RISK["areas"] for area in shown["areas"])
    english = form_values(PROCEDURE, "risk_assessment", submissions.RISK, "en")
    assert english["areas"] == [CHOICES[a] for a in submissions.RISK["areas"]]
    for values in (shown, english):
        back = evidence_from_form(PROCEDURE, {"risk_assessment": values})
        assert back["risk_assessment"] == submissions.RISK


def test_a_word_goes_back_to_its_own_field_s_value_and_free_text_stays() -> None:
    # 反对 is both an expert's "opposes" and a member's "against".
    opinion = {**submissions.EXPERTS["prof.chen"], "conclusion": "opposes"}
    for language in ("zh-CN", "en"):
        shown = form_values(PROCEDURE, "expert_review", opinion, language)
        back = evidence_from_form(PROCEDURE, {"expert_review": shown})["expert_review"]
        assert back["conclusion"] == "opposes", (language, shown["conclusion"])
    typed = {**opinion, "field_of_expertise": gettext("zh-CN", CHOICES["environment"]),
             "affiliation": gettext("zh-CN", CHOICES["deputies"])}
    back = evidence_from_form(PROCEDURE, {"expert_review": typed})["expert_review"]
    assert (back["field_of_expertise"], back["affiliation"]) == (
        typed["field_of_expertise"], typed["affiliation"])  # the reviewer's words, as typed


def test_no_field_shows_two_of_its_choices_in_one_word() -> None:
    for stage in PROCEDURE.stages:
        evidence = stage.stage_kind.evidence
        for name, info in evidence.model_fields.items():
            choices = choices_of(info.annotation)
            for language in ("zh-CN", "en"):
                words = [gettext(language, CHOICES.get(c, c)) for c in choices]
                assert len(set(words)) == len(words), (stage.key, name, language, words)


def test_an_optional_field_left_empty_is_accepted() -> None:
    form = submission_form(PROCEDURE, ["legality_review", "expert_review"])
    legality = form_values(PROCEDURE, "legality_review", submissions.LEGALITY)
    sent = {"recorded_by": "sun.hao", "proof": "fc_x",
            "legality_review": {**legality, "legal_risk_statement": "", "documents": []}}
    received = form.model_validate(sent).model_dump(mode="json")
    data = evidence_from_form(PROCEDURE, received)["legality_review"]
    assert "legal_risk_statement" not in data and "documents" not in data
    from models.evidence_schemas import ExpertOpinionEvidence, LegalityReviewEvidence

    LegalityReviewEvidence.model_validate(data)  # as the recorder will
    expert = next(iter(submissions.EXPERTS.values()))
    opinion = evidence_from_form(PROCEDURE, {"expert_review": {
        **form_values(PROCEDURE, "expert_review", expert), "sealed_scan_sha256": ""}})
    ExpertOpinionEvidence.model_validate(opinion["expert_review"])  # "" would fail its pattern


# What a rule requires only given other values: optional in the form, named by the rule.
CONDITIONAL = {("public_participation", "groups_consulted"),
               ("public_participation", "responses"), ("expert_review", "signature_ed25519"),
               ("collective_decision", "dissent")}


def test_required_and_optional_match_the_rules(make_facts: Any) -> None:  # noqa: F811
    """Each optional field of each stage's schema, left out of the demo's valid evidence:
    refused by a rule naming it exactly when the form marks it required (or the rule
    requires it only given other values)."""
    from dueprocess.orchestration.evidence_form import rule_required
    from tests.rules.test_statutory_rules import submit
    from tests.support import VALID_STEPS

    checked = set()
    for stage, recorder, payload in VALID_STEPS:
        if stage in checked:
            continue
        checked.add(stage)
        model = PROCEDURE.stage(stage).stage_kind.evidence
        required = dict(rule_required(PROCEDURE, stage))
        schema = _schema([stage])
        section = (schema.get("definitions") or schema["$defs"])[f"{model.__name__}Form"]
        for name, info in model.model_fields.items():
            if info.is_required() or name not in payload:
                continue
            without = {k: v for k, v in payload.items() if k != name}
            problems = submit(make_facts, stage, without, recorder=recorder)
            if (stage, name) in CONDITIONAL:
                assert problems and name not in section.get("required", []), (stage, name)
            elif name in required:
                assert [p.rule for p in problems] == [required[name]], (stage, name, problems)
                assert name in section["required"], (stage, name)
            else:  # the demo's evidence is valid: nothing else refuses it
                assert problems == [], (stage, name, problems)
                assert name not in section.get("required", []), (stage, name)
    assert {"risk_assessment", "legality_review", "publication"} <= checked
    assert required_departments_title()


def required_departments_title() -> bool:
    """The field the issue names reads as required now, not "(Optional)"."""
    schema = _schema(["risk_assessment"])
    section = (schema.get("definitions") or schema["$defs"])["RiskAssessmentEvidenceForm"]
    return "departments_consulted" in section["required"]


def test_the_description_names_open_stages_assignees_deadlines_and_blocked_reasons(
    case_id: str,
) -> None:
    from dueprocess.services.progress import advance_case

    progress = advance_case(case_id=case_id)
    text = describe_gate(case_id, progress.open_stages, language="en")
    assert f"Case {case_id}" in text
    assert "**Open stages**" in text and "**Blocked stages**" in text
    assert "Li Wei (`li.wei`)" in text  # the participation officer, by name and handle
    assert "Beijing time" in text and "UTC" not in text  # the deadline, in Beijing time
    open_part, blocked_part = text.split("**Blocked stages**")
    assert "Public participation" in open_part
    assert "[STAGE-ORDER" in blocked_part or "prerequisite" in blocked_part
    chinese = describe_gate(case_id, progress.open_stages)  # the form's language: zh-CN
    assert f"案件 {case_id}" in chinese and "**可办理的环节**" in chinese
    assert "公众参与" in chinese.split("**尚不能办理的环节**")[0]
    assert "北京时间" in chinese and "Open stages" not in chinese


@pytest.mark.flow
@pytest.mark.slow
def test_a_resume_with_a_bad_value_is_refused_with_the_reason(
    started_case: tuple[str, UUID], prefect_server: str,
) -> None:
    """The server refuses what the schema forbids and says why; what the schema allows
    but the decree does not is refused by the run, and the next form says why."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import PrefectHTTPStatusError
    from prefect.input.run_input import keyset_from_base_key

    from dueprocess.orchestration.resume import resume_with_input
    from tests.flows.conftest import gate

    case_id, _run_id = started_case
    run_id, key = gate(case_id)
    bad_choice = {"recorded_by": "li.wei", "proof": "fc_none", "public_participation": {
        **form_values(PROCEDURE, "public_participation", submissions.PARTICIPATION),
        "specific_groups_affected": "perhaps"}}
    refused = resume_with_input(UUID(run_id), run_input=bad_choice)
    assert refused.status.value != "ACCEPT"
    reason = str(refused.details.reason)  # type: ignore[union-attr]
    assert "specific_groups_affected" in reason and "perhaps" in reason, reason

    advance_to_step(case_id, "public_participation")  # the published window has closed
    accepted = resume_with_input(UUID(run_id), run_input={
        "recorded_by": "li.wei",
        "public_participation": form_values(PROCEDURE, "public_participation",
                                            submissions.PARTICIPATION_SHORT_WINDOW),
        "proof": form_code_for(case_id, "public_participation", "li.wei",
                               submissions.PARTICIPATION_SHORT_WINDOW)})
    assert accepted.status.value == "ACCEPT", accepted.details
    deadline = time.monotonic() + startups(100)
    with get_client(sync_client=True) as client:
        while True:
            next_gate = gate(case_id)
            if next_gate[1] != key:
                break
            assert time.monotonic() < deadline, "the run did not wait again"
            time.sleep(0.5)
        # The gate is in our database before Prefect stores the form's description.
        keyset = keyset_from_base_key(f"suspended-{next_gate[1]}")
        while True:
            try:
                description = client.read_flow_run_input(UUID(next_gate[0]),
                                                         key=keyset["description"])
                break
            except PrefectHTTPStatusError as missing:
                assert missing.response.status_code == 404, missing
                assert time.monotonic() < deadline, "the form has no description"
                time.sleep(0.5)
    assert "上一次提交被退回" in description  # the form's language, zh-CN
    assert "PP-WINDOW-AS-PUBLISHED" in description  # typed 19 days; 30 were published


def test_the_form_is_titled_in_the_reviewers_language() -> None:
    """Prefect's form reads zh-CN as the inbox does: the stages, the fields, the notes on
    required fields and the proof, never a schema's English title."""
    schema = _schema(["risk_assessment", "expert_review"])
    definitions = schema.get("definitions") or schema["$defs"]
    risk = definitions["RiskAssessmentEvidenceForm"]
    assert schema["properties"]["risk_assessment"]["title"] == "风险评估"
    assert schema["properties"]["expert_review"]["title"] == "专家论证"
    assert schema["properties"]["proof"]["title"] == "身份证明"
    assert risk["title"] == "填写"
    departments = risk["properties"]["departments_consulted"]
    assert departments["title"] == "征求意见的部门"
    assert "依 RA-REPORT-CONTENTS 必填" in departments["description"]
    english = {t for t in TITLES.values() if t != gettext("zh-CN", t)}
    shown = {p.get("title") for d in definitions.values() for p in d.get("properties", {})
             .values()} | {p.get("title") for p in schema["properties"].values()}
    assert not shown & english, shown & english
