"""The stage's HTML form, generated from its evidence schema and from what dueprocess
already holds (`portal.inbox.prefill`), and the evidence it posts.

A field dueprocess holds (a name, a unit, a date of the case clock, the published comment
window, the hearing it announced, the organ's head) is shown read-only and filled in by the
server, never read back from the client. Answers beside known data get their own inputs:
an answer and a reason for each opinion or campaign cluster received, presence, position
and statement for each member of the organ, the hearing participants who signed the
record. The expert's sealed scan is uploaded and hashed here; the signature is filled in by
the page's script (`portal/static/inbox-sign.js`). Each other top-level field of the schema
becomes one input: text, date, number, a choice for an enum or a yes/no, one line per item
for a list of strings, checkboxes for a list of choices, and JSON for anything nested.
`documents` becomes a file upload. The evidence built here is validated by the one
recording function, as from any other channel.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.datastructures import FormData, UploadFile

from models.evidence_titles import CHOICES, N_, TITLES
from portal.inbox.prefill import Known, Prefill

DOCUMENTS = "documents"
SCAN = "sealed_scan"  # the upload whose SHA-256 becomes sealed_scan_sha256
ANSWERS = ("adopted", "partly_adopted", "not_adopted")
POSITIONS = ("for", "against", "abstain")


@dataclass(frozen=True)
class FormField:
    name: str
    title: str  # an English msgid, translated by the page
    widget: str  # text, textarea, date, number, select, boolean, lines, choices, json, files,
    # or beside known data: known, opinions, roster, signed_by, signing
    required: bool
    description: str = ""
    choices: list[str] = field(default_factory=list)
    known: Known | None = None
    data: Any = None  # the rows of an opinions, roster or signed_by widget

    def choice_title(self, value: str) -> str:
        return CHOICES.get(value, value)


class FormProblem(ValueError):
    """A field the form could not turn into evidence (names the field)."""


def _unwrap(schema: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The non-null alternative of an optional field, and whether it was optional."""
    options = schema.get("anyOf")
    if options:
        real = [o for o in options if o.get("type") != "null"]
        if len(real) == 1:
            return {**schema, **real[0]}, True
    return schema, False


def _typed_fields(model: type[BaseModel], *, skip: frozenset[str]) -> list[FormField]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    fields = []
    for name, raw in schema.get("properties", {}).items():
        if name in skip:
            continue
        prop, _ = _unwrap(raw)
        kind = prop.get("type")
        items = prop.get("items", {})
        choices: list[str] = []
        if name == DOCUMENTS:
            widget = "files"
        elif "enum" in prop:
            widget, choices = "select", [str(c) for c in prop["enum"]]
        elif kind == "boolean":
            widget = "boolean"
        elif kind in ("integer", "number"):
            widget = "number"
        elif kind == "string" and prop.get("format") == "date":
            widget = "date"
        elif kind == "string":
            widget = "textarea" if prop.get("maxLength", 0) > 300 else "text"
        elif kind == "array" and "enum" in items:
            widget, choices = "choices", [str(c) for c in items["enum"]]
        elif kind == "array" and items.get("type") == "string":
            widget = "lines"
        else:
            widget = "json"
        fields.append(FormField(name=name, title=TITLES.get(name, name), widget=widget,
                                required=name in required,
                                description=str(raw.get("description", "")),
                                choices=choices))
    return fields


def form_fields(model: type[BaseModel], *, prefill: Prefill | None = None) -> list[FormField]:
    """The form of a stage: known data read-only first, then what the reviewer answers."""
    known = prefill or Prefill()
    fields = [FormField(name=k.name, title=TITLES.get(k.name, k.name), widget="known",
                        required=False, known=k) for k in known.known.values()]
    if known.hearing:
        fields.append(FormField(name="record_signed_by", title=TITLES["record_signed_by"],
                                widget="signed_by", required=False, data=known.hearing))
    if known.opinions:
        fields.append(FormField(name="responses", title=TITLES["responses"],
                                widget="opinions", required=True, data=known.opinions))
    if known.roster is not None:
        fields.append(FormField(name="members_present", title=TITLES["members_present"],
                                widget="roster", required=True, data=known.roster))
    typed = _typed_fields(model, skip=known.built | ({"responses"} if known.opinions
                                                     else frozenset()))
    if known.opinions:  # opinions received elsewhere (letters, hearings) keep a JSON field
        typed.append(FormField(
            name="responses", title=N_("Answers to opinions received outside the portal"),
            widget="elsewhere", required=False,
            description=N_('A JSON list: [{"cluster": "…", "opinions": 3, "response": '
                           '"adopted", "reason": "…"}]')))
    if known.signing:
        typed += [FormField(name=SCAN, title=N_("Sealed scan of the signed opinion"),
                            widget="scan", required=False,
                            description=N_("Instead of signing here: the scan of the opinion "
                                           "signed and sealed on paper; dueprocess computes "
                                           "its SHA-256")),
                  FormField(name="signature_ed25519", title=TITLES["signature_ed25519"],
                            widget="signing", required=False)]
    return fields + typed


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    # A browser posts a textarea's line breaks as CRLF; the evidence keeps LF.
    return value.strip().replace("\r\n", "\n") if isinstance(value, str) else ""


async def _upload(upload: UploadFile, *, name: str, max_document_bytes: int) -> dict[str, str]:
    content = await upload.read(max_document_bytes + 1)
    if len(content) > max_document_bytes:
        raise FormProblem(f"{name}: '{upload.filename}' is over {max_document_bytes} bytes")
    return {"filename": upload.filename or name,
            "media_type": upload.content_type or "application/pdf",
            "content_base64": base64.b64encode(content).decode()}


def _answers(form: FormData, rows: tuple[Any, ...]) -> list[dict[str, Any]]:
    """One response per answered row; an unanswered row is named by the rules."""
    responses = []
    for index, row in enumerate(rows):
        answer, reason = _text(form, f"answer.{index}"), _text(form, f"reason.{index}")
        if not answer:
            if reason:
                raise FormProblem(f"responses.{index}: a reason without an answer "
                                  f"(adopted, partly adopted or not adopted)")
            continue
        if answer not in ANSWERS:
            raise FormProblem(f"responses.{index}: '{answer}' is not one of "
                              f"{', '.join(ANSWERS)}")
        responses.append({"cluster": row.cluster, "opinions": row.opinions,
                          "response": answer, "reason": reason})
    return responses


def _meeting(form: FormData, roster: Any) -> dict[str, Any]:
    present, statements, dissent = [], [], []
    for member in roster.members:
        handle = member.handle
        position, said = _text(form, f"position.{handle}"), _text(form, f"statement.{handle}")
        if form.get(f"present.{handle}") == "on":
            present.append(handle)
        if said or position:
            if position not in POSITIONS:
                raise FormProblem(f"statements.{handle}: the position must be one of "
                                  f"{', '.join(POSITIONS)}")
            if not said:
                raise FormProblem(f"statements.{handle}: a position without a statement")
            statements.append({"speaker": handle, "position": position, "text": said})
        if text := _text(form, f"dissent.{handle}"):
            dissent.append({"member": handle, "text": text})
    return {"members_present": present, "statements": statements, "dissent": dissent}


async def evidence_from_form(model: type[BaseModel], form: FormData, *,
                             max_document_bytes: int,
                             prefill: Prefill | None = None) -> dict[str, Any]:
    """The evidence the form posted, with what dueprocess holds filled in by the server;
    blank optional fields are left out."""
    known = prefill or Prefill()
    evidence: dict[str, Any] = {}
    for f in form_fields(model, prefill=known):
        if f.widget in ("known", "opinions", "roster"):
            continue  # filled in below, from the server's own data
        if f.widget == "files":
            documents = [await _upload(u, name=f.name, max_document_bytes=max_document_bytes)
                         for u in form.getlist(f.name)
                         if isinstance(u, UploadFile) and u.filename]
            if documents:
                evidence[f.name] = documents
            continue
        if f.widget == "scan":
            upload = form.get(f.name)
            if isinstance(upload, UploadFile) and upload.filename:
                scan = await _upload(upload, name=f.name, max_document_bytes=max_document_bytes)
                evidence["sealed_scan_sha256"] = hashlib.sha256(
                    base64.b64decode(scan["content_base64"])).hexdigest()
                evidence.setdefault(DOCUMENTS, []).append(scan)
            continue
        if f.widget in ("choices", "signed_by"):
            picked = [str(v) for v in form.getlist(f.name)]
            if f.widget == "signed_by":
                picked = [p for p in picked if p in f.data]
            if picked:
                evidence[f.name] = picked
            continue
        text = _text(form, f.name)
        if not text:
            continue  # missing required fields are named by the schema check
        if f.widget == "boolean":
            evidence[f.name] = text == "true"
        elif f.widget == "number":
            try:
                evidence[f.name] = int(text) if text.lstrip("-").isdigit() else float(text)
            except ValueError:
                raise FormProblem(f"{f.name}: '{text}' is not a number") from None
        elif f.widget == "lines":
            evidence[f.name] = [line.strip() for line in text.splitlines() if line.strip()]
        elif f.widget in ("json", "elsewhere"):
            try:
                evidence[f.name] = json.loads(text)
            except json.JSONDecodeError as exc:
                raise FormProblem(f"{f.name}: malformed JSON: {exc.msg}") from None
            except RecursionError:
                raise FormProblem(f"{f.name}: JSON nested too deeply") from None
        else:
            evidence[f.name] = text
    return _with_known(evidence, known, form)


def _with_known(evidence: dict[str, Any], known: Prefill, form: FormData) -> dict[str, Any]:
    """Put in what dueprocess holds; the client's copy of it is never read."""
    for k in known.known.values():
        if k.value is not None:
            evidence[k.name] = k.value
    if known.hearing is not None and "hearing" in evidence:
        evidence["hearing"] = {**evidence["hearing"],
                               "record_signed_by": evidence.pop("record_signed_by", [])}
        if evidence["hearing"]["materials_sent_on"] is None:
            del evidence["hearing"]["materials_sent_on"]
    if known.opinions:
        elsewhere = evidence.get("responses", [])
        if not isinstance(elsewhere, list):
            raise FormProblem("responses: the answers to opinions received outside the portal "
                              "must be a JSON list")
        evidence["responses"] = _answers(form, known.opinions) + elsewhere
        evidence["opinions_received"] = sum(r.opinions for r in known.opinions) + sum(
            r.get("opinions", 0) for r in elsewhere
            if isinstance(r, dict) and isinstance(r.get("opinions"), int))
    if known.roster is not None:
        evidence.update(_meeting(form, known.roster))
    return evidence
