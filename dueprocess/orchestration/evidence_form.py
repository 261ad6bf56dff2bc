"""The RunInput form a reviewer fills in the Prefect UI to complete a stage.

The form has one optional section per stage open at the gate, typed by that stage's
evidence schema, so the UI renders the statutory fields, and a description (markdown,
`dueprocess.orchestration.gate_description`) that says what to do. Prefect checks the JSON
schema when the run is resumed; the flow then runs the full rules, admission included, through
`dueprocess.services.recording`.

What the form shows differs from the evidence schemas in two ways, both undone by
`evidence_from_form` before anything is recorded:

- A required yes/no field is an explicit choice ("yes" or "no"), not a toggle: a toggle
  shows "off" while nothing was chosen, and a reviewer must not state "no direct
  interest" by not touching it.
- `recorded_evidence_id`, which `dueprocess record` sends to resume with a reference to
  evidence it already stored, is part of the input but not of the form's JSON schema
  (`SkipJsonSchema`); the schema allows properties it does not list, so the server still
  accepts it.

Fields are added by subclassing `EvidenceSubmission` (or with `submission_form(base=…)`),
so an identity proof or any later field needs no change here.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Any, ClassVar

from prefect.input import RunInput
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo
from pydantic.json_schema import SkipJsonSchema

from models.procedure import ProcedureDefinition


class YesNo(StrEnum):
    yes = "yes"
    no = "no"


class EvidenceSubmission(RunInput):
    # Prefect's RunInput forbids extra properties, which would put
    # `additionalProperties: false` in the schema and make the server refuse a resume
    # with the hidden `recorded_evidence_id`. Unknown properties are ignored instead.
    model_config = ConfigDict(extra="ignore")

    recorded_by: str = Field(
        title="Your handle",
        description="You must be assigned to the stage you fill in. The evidence is "
        "recorded in your name, and the audit names you if it is refused.",
    )
    proof: str | None = Field(
        default=None, max_length=200,
        description="Proof that you submit this: the single-use code printed by "
        "`dueprocess form-code CASE STAGE --file EVIDENCE.json`, or your Ed25519 signature "
        "of the evidence (`dueprocess form-code … --key KEY.pem`). A handle alone is refused.",
    )
    idempotency_key: str | None = Field(
        default=None, title="Idempotency key",
        description="Resubmitting with the same key stores nothing new",
    )
    # Internal: set by `dueprocess record` for evidence it already stored; not in the form.
    recorded_evidence_id: SkipJsonSchema[int | None] = None

    # Names of the fields that are not stage sections.
    COMMON_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"recorded_by", "proof", "idempotency_key", "recorded_evidence_id"})


def _required_bools(model: type[BaseModel]) -> list[str]:
    return [name for name, info in model.model_fields.items()
            if info.annotation is bool and info.is_required()]


@cache
def form_section(evidence: type[BaseModel]) -> type[BaseModel]:
    """The form's version of an evidence schema: the same fields and limits, with each
    required boolean as an explicit yes/no choice. Only the shape is checked here; the
    evidence schema itself, with its validators, runs when the evidence is recorded."""
    fields: dict[str, Any] = {}
    for name, info in evidence.model_fields.items():
        if name in _required_bools(evidence):
            fields[name] = (YesNo, Field(title=info.title, description=(
                (info.description + ". " if info.description else "") + "Choose yes or no")))
        else:
            fields[name] = (info.annotation, FieldInfo.merge_field_infos(info))
    return create_model(
        # The title names the UI's choice between filling in the section and leaving it.
        f"{evidence.__name__}Form", __config__=ConfigDict(extra="forbid", title="Fill in"),
        __doc__=evidence.__doc__, **fields,
    )


def submission_form(
    procedure: ProcedureDefinition, stage_keys: list[str], *,
    description: str | None = None, base: type[EvidenceSubmission] = EvidenceSubmission,
) -> type[EvidenceSubmission]:
    """A form with a section for each stage open at the gate (`stage_keys`), and the
    gate's description. A draft revision that reopens other stages while the run waits
    wakes the run (`dueprocess.orchestration.recovery`), which then asks with a new form."""
    sections: dict[str, Any] = {
        key: (
            form_section(procedure.stage(key).stage_kind.evidence) | None,
            Field(default=None, title=procedure.stage(key).title,
                  description=f"{procedure.stage(key).articles}: fill in only if you are "
                  "assigned to this stage"),
        )
        for key in stage_keys
    }
    form = create_model("EvidenceSubmission", __base__=base, **sections)
    return form.with_initial_data(description=description) if description else form


def evidence_from_form(procedure: ProcedureDefinition, data: dict[str, Any]) -> dict[str, Any]:
    """The submission as the recorder expects it: each yes/no choice back to a boolean.
    Anything else, malformed values included, is passed on untouched for the rules to
    refuse with a reason."""
    converted = dict(data)
    for key, section in data.items():
        if key in EvidenceSubmission.COMMON_FIELDS or not isinstance(section, dict):
            continue
        try:
            evidence = procedure.stage(key).stage_kind.evidence
        except Exception:  # not a stage: left for the recorder to refuse
            continue
        yes_no = {YesNo.yes.value: True, YesNo.no.value: False}
        converted[key] = {
            name: yes_no.get(value, value) if name in _required_bools(evidence) else value
            for name, value in section.items()
        }
    return converted


def form_values(procedure: ProcedureDefinition, stage_key: str,
                evidence: dict[str, Any]) -> dict[str, Any]:
    """Evidence as the form takes it (each required boolean as "yes" or "no"): for a
    client that submits through the resume form rather than `dueprocess record`."""
    required = _required_bools(procedure.stage(stage_key).stage_kind.evidence)
    return {name: (YesNo.yes.value if value else YesNo.no.value)
            if name in required and isinstance(value, bool) else value
            for name, value in evidence.items()}
