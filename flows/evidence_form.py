"""The RunInput form a reviewer fills in the Prefect UI to complete a stage.

The form has one optional section per open stage, typed by that stage's evidence schema,
so the UI renders the statutory fields. A draft revision can reopen stages while the run
waits, so the stages that a revision reopens have a section too. Prefect checks the JSON
schema when the run is resumed; the flow then runs the full rules, admission included,
through `dueprocess.services.recording`.
"""

from __future__ import annotations

from typing import Any

from prefect.input import RunInput
from pydantic import Field, create_model

from models.procedure import ProcedureDefinition


class EvidenceSubmission(RunInput):
    recorded_by: str = Field(
        description="Your handle: you must be assigned to the stage you fill in. "
        "The evidence is recorded in your name and the audit names you if it is refused."
    )
    proof: str | None = Field(
        default=None, max_length=200,
        description="Proof that you submit this: the single-use code printed by "
        "`dueprocess form-code CASE STAGE --file EVIDENCE.json`, or your Ed25519 signature "
        "of the evidence (`dueprocess form-code … --key KEY.pem`). A handle alone is refused.",
    )
    idempotency_key: str | None = Field(
        default=None, description="Optional; resubmitting with the same key stores nothing new"
    )
    recorded_evidence_id: int | None = Field(
        default=None,
        description="Leave blank. Set by `dueprocess record` for evidence it already stored.",
    )


def submission_form(
    procedure: ProcedureDefinition, stage_keys: list[str]
) -> type[EvidenceSubmission]:
    """A form with a section for each stage in `stage_keys` (the stages open at the wait)
    and for each stage a draft revision reopens."""
    reopenable = [s.key for s in procedure.stages if s.reopen_on_revision]
    keys = [*stage_keys, *(k for k in reopenable if k not in stage_keys)]
    sections: dict[str, Any] = {
        key: (
            procedure.stage(key).stage_kind.evidence | None,
            Field(default=None, title=procedure.stage(key).title,
                  description=f"{procedure.stage(key).articles}: fill in only for this stage"
                  + ("" if key in stage_keys else ", once a revised draft reopens it")),
        )
        for key in keys
    }
    return create_model(
        "EvidenceSubmission", __base__=EvidenceSubmission, **sections
    )
