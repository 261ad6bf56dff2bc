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

from datetime import date
from functools import cache
from types import UnionType
from typing import Any, ClassVar, Literal, Union, get_args, get_origin

from prefect.input import RunInput
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo
from pydantic.json_schema import SkipJsonSchema

from dueprocess.i18n import LANGUAGES, N_, Language, gettext
from dueprocess.i18n.stages import cited, stage_name
from dueprocess.settings import get_notify_settings
from models.evidence_titles import CHOICES
from models.procedure import ProcedureDefinition

# Words of the form, translated where a form is built (`_language()`).
FILL_IN = N_("Fill in")
CHOOSE_YES_OR_NO = N_("Choose yes or no")
REQUIRED_BY = N_("Required by {rule}")
ONLY_IF_ASSIGNED = N_("{articles}: fill in only if you are assigned to this stage")
# The words of a choice: the inbox's (`models.evidence_titles.CHOICES`), and yes/no.
CHOICE_WORDS: dict[str, str] = {**CHOICES, "yes": N_("yes"), "no": N_("no")}


class EvidenceSubmission(RunInput):
    # Prefect's RunInput forbids extra properties, which would put
    # `additionalProperties: false` in the schema and make the server refuse a resume
    # with the hidden `recorded_evidence_id`. Unknown properties are ignored instead.
    model_config = ConfigDict(extra="ignore")

    recorded_by: str = Field(
        title=N_("Your handle"), min_length=1,
        description=N_("You must be assigned to the stage you fill in. The evidence is "
                       "recorded in your name, and the audit names you if it is refused."),
    )
    proof: str = Field(
        title=N_("Proof"), min_length=1, max_length=200,
        description=N_("Proof that you submit this: the single-use code printed by "
                       "`dueprocess form-code CASE STAGE`, or your Ed25519 signature of "
                       "the evidence (`dueprocess form-code … --file EVIDENCE.json --key "
                       "KEY.pem`). A handle alone is refused. A refused submission does "
                       "not use the code up: correct it and submit again with the same "
                       "code."),
    )
    # Generated, not shown: the gate's own key (`<case>-<gate>`) stands in for it, so a
    # replayed resume is stored once; `dueprocess record` and the API take a client's key.
    idempotency_key: SkipJsonSchema[str | None] = None
    # Internal: set by `dueprocess record` for evidence it already stored; not in the form.
    recorded_evidence_id: SkipJsonSchema[int | None] = None

    # Names of the fields that are not stage sections.
    COMMON_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"recorded_by", "proof", "idempotency_key", "recorded_evidence_id"})


# Fields the evidence schemas leave optional but a statutory rule requires filled in:
# the form marks them required, as the rules do; a field a rule requires only when a stage
# parameter is on names it (tests/flows/test_evidence_form.py checks this table against
# the rules, field by field). Fields required only given other values (groups consulted
# when specific groups are affected, answers when opinions were received, a dissent when
# a member spoke against, a signature or a sealed scan) stay optional in the form: the
# rules name them with the reason.
RequiredByRule = tuple[str, str | None]  # (rule, the stage parameter that turns it on)
REQUIRED_BY_RULES: dict[str, dict[str, RequiredByRule]] = {
    "public_participation": {"published_materials": ("PP-CALL-MATERIALS", None)},
    "risk_assessment": {"areas": ("RA-REPORT-CONTENTS", None),
                        "departments_consulted": ("RA-REPORT-CONTENTS", None)},
    "legality_review": {"review_covers": ("LR-REVIEW-SCOPE", None),
                        "advisers_consulted": ("LR-ADVISERS", None)},
    "publication": {"adoption_explanation": ("PB-ADOPTION-EXPLAINED", "explain_adoption"),
                    "expert_adoption_explanation": ("PB-ADOPTION-EXPLAINED",
                                                    "explain_adoption"),
                    "party_committee_consulted_on": ("PB-PARTY-CONSULTED",
                                                     "party_consultation")},
}


def rule_required(procedure: ProcedureDefinition, stage_key: str) -> frozenset[tuple[str, str]]:
    """(field, rule) of each optional field a rule requires at this stage of `procedure`."""
    stage = procedure.stage(stage_key)
    params = stage.gate_params
    required = set()
    for name, (rule, param) in REQUIRED_BY_RULES.get(stage.stage_kind.name, {}).items():
        if param is not None and not getattr(params, param, False):
            continue
        if name == "expert_adoption_explanation" and not procedure.stages_of_kind(
                "expert_review"):
            continue  # no expert review in this procedure: nothing to explain
        required.add((name, rule))
    return frozenset(required)


def _language() -> Language:
    """The form's language: Prefect's UI has no switch, so the notices' (zh-CN)."""
    return get_notify_settings().notify_language


def _choice_label(language: Language, value: str) -> str:
    return gettext(language, CHOICE_WORDS[value]) if value in CHOICE_WORDS else value


def choices_of(annotation: Any) -> tuple[str, ...]:
    """The string choices (Literal values) a field's annotation offers, however nested."""
    if get_origin(annotation) is Literal:
        return tuple(a for a in get_args(annotation) if isinstance(a, str))
    return tuple(c for a in get_args(annotation) for c in choices_of(a))


def _field_choices(evidence: type[BaseModel], name: str) -> tuple[str, ...]:
    """A field's choices; yes/no for a required boolean; none for free text (a text equal
    to some choice's word is the reviewer's, and stays as typed)."""
    if name in _required_bools(evidence):
        return ("yes", "no")
    info = evidence.model_fields.get(name)
    return choices_of(info.annotation) if info is not None else ()


def _without_none(annotation: Any) -> Any:
    """`X | None` as `X` (a field the rules require may not be left out)."""
    if get_origin(annotation) in (Union, UnionType):
        real = [a for a in get_args(annotation) if a is not type(None)]
        if len(real) == 1:
            return real[0]
    return annotation


def _localized(annotation: Any, language: Language, *, words: bool = True) -> Any:
    """`annotation` with each part (a nested model) titled in `language`, and, with
    `words`, each string choice (a Literal) as its words in `language`."""
    origin, args = get_origin(annotation), get_args(annotation)
    if words and origin is Literal and all(isinstance(a, str) for a in args):
        return Literal[tuple(_choice_label(language, a) for a in args)]
    if origin in (list, tuple, set, frozenset) and args:
        return origin[tuple(_localized(a, language, words=words) for a in args)]
    if origin in (Union, UnionType) and args:
        return Union[tuple(_localized(a, language, words=words) for a in args)]  # noqa: UP007
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _titled(annotation, language)
    return annotation


@cache
def _titled(model: type[BaseModel], language: Language) -> type[BaseModel]:
    """A part of a section (an attachment, a hearing, an answer) titled in `language`; its
    values stay as stored, so `evidence_from_form` has nothing to turn back."""
    fields: dict[str, Any] = {
        name: (_localized(info.annotation, language, words=False), FieldInfo.merge_field_infos(
            info, title=gettext(language, info.title) if info.title else None,
            description=_described(info, language)))
        for name, info in model.model_fields.items()}
    return create_model(model.__name__, __config__=ConfigDict(extra="forbid"),
                        __doc__=model.__doc__, **fields)


def _required_bools(model: type[BaseModel]) -> list[str]:
    return [name for name, info in model.model_fields.items()
            if info.annotation is bool and info.is_required()]


@cache
def form_section(evidence: type[BaseModel],
                 required_by_rules: frozenset[tuple[str, str]] = frozenset(),
                 language: Language = "zh-CN") -> type[BaseModel]:
    """The form's version of an evidence schema: the same fields and limits, titled in
    `language`, with each required boolean as an explicit yes/no choice, each choice in
    words of `language`, and each field of `required_by_rules` (`rule_required`) required.
    Only the shape is checked here; the evidence schema itself, with its validators, runs
    when the evidence is recorded."""
    fields: dict[str, Any] = {}
    by_rule = dict(required_by_rules)
    yes_no = Literal[_choice_label(language, "yes"), _choice_label(language, "no")]  # type: ignore[valid-type]
    for name, info in evidence.model_fields.items():
        title = gettext(language, info.title) if info.title else None
        if name in _required_bools(evidence):
            fields[name] = (yes_no, Field(title=title, description=_described(
                info, language, gettext(language, CHOOSE_YES_OR_NO))))
            continue
        annotation = _localized(info.annotation, language)
        if name in by_rule:
            # Required, and not empty: the rule refuses an empty list or a blank text.
            annotation = _without_none(annotation)
            fields[name] = (annotation, Field(
                title=title, min_length=1 if annotation is not date else None,
                description=_described(info, language, gettext(
                    language, REQUIRED_BY).format(rule=by_rule[name]))))
            continue
        fields[name] = (annotation, FieldInfo.merge_field_infos(
            info, title=title, description=_described(info, language)))
    return create_model(
        # The title names the UI's choice between filling in the section and leaving it.
        f"{evidence.__name__}Form",
        __config__=ConfigDict(extra="forbid", title=gettext(language, FILL_IN)),
        __doc__=evidence.__doc__, **fields,
    )


def _described(info: FieldInfo, language: Language, *notes: str) -> str | None:
    """A field's description in `language` (as the catalogue has it), then `notes`."""
    parts = ([gettext(language, info.description)] if info.description else []) + list(notes)
    return ("。" if language == "zh-CN" else ". ").join(parts) or None


def submission_form(
    procedure: ProcedureDefinition, stage_keys: list[str], *,
    description: str | None = None, base: type[EvidenceSubmission] = EvidenceSubmission,
) -> type[EvidenceSubmission]:
    """A form with a section for each stage open at the gate (`stage_keys`), and the
    gate's description. A draft revision that reopens other stages while the run waits
    wakes the run (`dueprocess.orchestration.recovery`), which then asks with a new form."""
    language = _language()
    sections: dict[str, Any] = {}
    for key in stage_keys:
        stage = procedure.stage(key)
        section = form_section(stage.stage_kind.evidence, rule_required(procedure, key),
                               language)
        sections[key] = (section | None, Field(
            default=None, title=stage_name(language, key, stage.title, stage.stage_kind.name),
            description=gettext(language, ONLY_IF_ASSIGNED).format(
                articles=cited(language, stage.articles))))
    sections.update(_common_fields(base, language))
    form = create_model("EvidenceSubmission", __base__=base, **sections)
    return form.with_initial_data(description=description) if description else form


def _common_fields(base: type[EvidenceSubmission], language: Language) -> dict[str, Any]:
    """The handle and proof fields of `base`, titled and described in `language`."""
    return {name: (info.annotation, FieldInfo.merge_field_infos(
                info, title=gettext(language, info.title or name),
                description=gettext(language, info.description) if info.description else None))
            for name, info in base.model_fields.items()
            if name in ("recorded_by", "proof")}


def evidence_from_form(procedure: ProcedureDefinition, data: dict[str, Any]) -> dict[str, Any]:
    """The submission as the recorder expects it: each choice back to its stored value,
    field by field (two fields may show one word for different values: 反对 is an expert's
    "opposes" and a member's "against"), yes/no to a boolean, and each optional field left
    empty ("" or an empty list) left out, as if the form had not sent it. Anything else,
    malformed values included, is passed on untouched for the rules to refuse with a
    reason."""
    converted = dict(data)
    for key, section in data.items():
        if key in EvidenceSubmission.COMMON_FIELDS or not isinstance(section, dict):
            continue
        try:
            evidence = procedure.stage(key).stage_kind.evidence
        except Exception:  # not a stage: left for the recorder to refuse
            continue
        booleans = _required_bools(evidence)
        fields = evidence.model_fields
        converted[key] = {
            name: _stored(value, _words_to_values(evidence, name), boolean=name in booleans)
            for name, value in section.items()
            if not (name in fields and not fields[name].is_required()
                    and value in ("", None, []))
        }
    return converted


def _words_to_values(evidence: type[BaseModel], name: str) -> dict[str, str]:
    choices = _field_choices(evidence, name)
    return {**{_choice_label(language, c): c for c in choices for language in LANGUAGES},
            **{c: c for c in choices}}


def _stored(value: Any, values: dict[str, str], *, boolean: bool) -> Any:
    if isinstance(value, list):
        return [values.get(v, v) if isinstance(v, str) else v for v in value]
    if not isinstance(value, str):
        return value
    stored = values.get(value, value)
    return {"yes": True, "no": False}.get(stored, value) if boolean else stored


def form_values(procedure: ProcedureDefinition, stage_key: str, evidence: dict[str, Any],
                language: Language | None = None) -> dict[str, Any]:
    """Evidence as the form takes it (each required boolean as yes or no, each choice in
    words): for a client that submits through the resume form rather than
    `dueprocess record`."""
    language = language or _language()
    model = procedure.stage(stage_key).stage_kind.evidence
    required = _required_bools(model)
    return {name: _as_shown(value, {c: _choice_label(language, c)
                                    for c in _field_choices(model, name)},
                            boolean=name in required)
            for name, value in evidence.items()}


def _as_shown(value: Any, labels: dict[str, str], *, boolean: bool) -> Any:
    if boolean and isinstance(value, bool):
        return labels["yes" if value else "no"]
    if isinstance(value, list):
        return [labels.get(v, v) if isinstance(v, str) else v for v in value]
    return labels.get(value, value) if isinstance(value, str) else value
