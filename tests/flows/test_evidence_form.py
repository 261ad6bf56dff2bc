"""The resume form: a section per open stage, and per stage a draft revision reopens."""

from __future__ import annotations

from flows.evidence_form import submission_form
from models.procedure import load_procedure


def test_the_form_has_the_open_stages_and_the_stages_a_revision_reopens() -> None:
    procedure = load_procedure("decree-713")
    form = submission_form(procedure, ["public_participation", "expert_review"])
    sections = [name for name in form.model_fields
                if name not in ("recorded_by", "idempotency_key", "recorded_evidence_id")]
    assert sections == ["public_participation", "expert_review", "risk_assessment",
                        "legality_review", "collective_decision"]
    schema = form.model_json_schema()
    assert "recorded_by" in schema["required"]
    assert "once a revised draft reopens it" in schema["properties"]["risk_assessment"][
        "description"]
