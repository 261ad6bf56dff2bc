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
