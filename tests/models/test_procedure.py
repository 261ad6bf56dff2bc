"""Procedure definitions: the bundled one loads, bad ones are refused with the reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from models.procedure import ProcedureError, load_procedure, parse_procedure


def decree() -> dict[str, Any]:
    return load_procedure("decree-713").model_dump(mode="json")


def test_decree_713_has_five_mandatory_stages_before_publication() -> None:
    procedure = load_procedure("decree-713")
    assert procedure.stage_keys == [
        "public_participation", "expert_review", "risk_assessment", "legality_review",
        "collective_decision", "publication",
    ]
    assert procedure.upstream("collective_decision") == {
        "public_participation", "expert_review", "risk_assessment", "legality_review"
    }
    assert procedure.stage("public_participation").gate_params.min_comment_days == 30  # type: ignore[attr-defined]


def refused(data: dict[str, Any]) -> str:
    with pytest.raises(ProcedureError) as info:
        parse_procedure(data, source="test")
    return str(info.value)


def test_cycle_is_named() -> None:
    data = decree()
    data["stages"][0]["after"] = ["publication"]
    message = refused(data)
    assert "cycle" in message and "public_participation" in message


def test_unknown_stage_in_after_is_named() -> None:
    data = decree()
    data["stages"][3]["after"] = ["public_participation", "astrology"]
    assert "'legality_review': 'after' names unknown stage 'astrology'" in refused(data)


def test_missing_parameter_is_named() -> None:
    data = decree()
    del data["stages"][2]["role"]
    assert "stages.2.role: Field required" in refused(data)


def test_bad_gate_parameter_is_named() -> None:
    data = decree()
    data["stages"][0]["params"] = {"min_comment_days": 0}
    assert "'public_participation': params: min_comment_days" in refused(data)
    data["stages"][0]["params"] = {"min_coment_days": 30}
    assert "min_coment_days: Extra inputs are not permitted" in refused(data)


def test_unknown_kind_is_named() -> None:
    data = decree()
    data["stages"][1]["kind"] = "oracle"
    assert "unknown kind 'oracle'" in refused(data)


def test_duplicate_stage_key_is_named() -> None:
    data = decree()
    data["stages"][1]["key"] = "public_participation"
    assert "stage key defined twice: public_participation" in refused(data)


def test_procedure_file_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    data = decree()
    data["id"] = "mine"
    data["stages"][0]["params"] = {"min_comment_days": 45}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert load_procedure(str(path)).stage("public_participation").params == {
        "min_comment_days": 45
    }


def test_unknown_procedure_name_lists_the_bundled_ones() -> None:
    with pytest.raises(ProcedureError, match="decree-713"):
        load_procedure("no-such-procedure")


def test_unknown_role_is_named() -> None:
    data = decree()
    data["stages"][2]["role"] = "astrologer"
    assert "stages.2.role: Input should be" in refused(data)


def test_a_decision_needs_a_legality_review_before_it() -> None:
    data = decree()
    data["stages"] = [s for s in data["stages"] if s["key"] != "legality_review"]
    data["stages"][3]["after"] = ["public_participation", "expert_review", "risk_assessment"]
    message = refused(data)
    assert "needs a legality_review stage before it (Decree 713 Art. 25)" in message
    data["stages"][3]["params"] = {"requires_legality_review": False}
    data["major_decision"] = False  # e.g. an internal procedure outside Decree 713
    assert parse_procedure(data, source="test").deciding_stage.key == "collective_decision"


def test_a_major_decision_cannot_switch_off_the_legality_review() -> None:
    data = decree()
    data["stages"][4]["params"] = {"requires_legality_review": False}
    message = refused(data)
    assert "params.requires_legality_review: false is not allowed for a major decision" in message
    assert "Decree 713 Art. 25" in message


def test_statutory_values_are_the_defaults() -> None:
    from models.stage_kinds import STAGE_KINDS

    defaults = {kind: STAGE_KINDS[kind].params().model_dump() for kind in STAGE_KINDS}
    assert defaults["public_participation"] == {"min_comment_days": 30, "hearing_notice_days": 7}
    assert defaults["expert_review"] == {"min_experts": 3}
    assert defaults["legality_review"] == {"min_review_working_days": 7,
                                           "calendar": "chinesecalendar"}
    assert defaults["collective_decision"] == {
        "meeting_types": ("executive", "plenary"), "quorum_fraction": 0.5,
        "requires_legality_review": True}
    assert defaults["publication"] == {"publish_within_days": 15, "explain_adoption": True,
                                       "party_consultation": True}
    assert defaults["filing"] == {"file_within_days": 30}


def test_decree_713_reopens_risk_legality_and_decision_on_a_revision() -> None:
    procedure = load_procedure("decree-713")
    assert [s.key for s in procedure.stages if s.reopen_on_revision] == [
        "risk_assessment", "legality_review", "collective_decision"]
    assert [s.key for s in procedure.closing_stages] == ["publication"]


def test_normative_document_procedure_is_data_on_the_same_kinds() -> None:
    procedure = load_procedure("normative-document")
    assert procedure.stage_keys == ["legality_review", "collective_decision", "publication",
                                    "filing"]
    assert procedure.deciding_stage.key == "collective_decision"
    assert procedure.stage("legality_review").gate_params.min_review_working_days == 5  # type: ignore[attr-defined]
    assert procedure.stage("filing").gate_params.file_within_days == 30  # type: ignore[attr-defined]
    assert [s.key for s in procedure.closing_stages] == ["filing"]
