"""The stage's HTML form, generated from its evidence schema, and the evidence it posts.

Each top-level field of the schema becomes one input: text, date, number, a choice for an
enum or a yes/no, one line per item for a list of strings, checkboxes for a list of
choices, and JSON for anything nested. `documents` becomes a file upload. The evidence
built here is validated by the one recording function, as from any other channel.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.datastructures import FormData, UploadFile

DOCUMENTS = "documents"


@dataclass(frozen=True)
class FormField:
    name: str
    title: str
    widget: str  # text, textarea, date, number, select, boolean, lines, choices, json, files
    required: bool
    description: str = ""
    choices: list[str] = field(default_factory=list)


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


def form_fields(model: type[BaseModel]) -> list[FormField]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    fields = []
    for name, raw in schema.get("properties", {}).items():
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
        fields.append(FormField(name=name, title=str(raw.get("title", name)), widget=widget,
                                required=name in required,
                                description=str(raw.get("description", "")),
                                choices=choices))
    return fields


async def evidence_from_form(model: type[BaseModel], form: FormData,
                             *, max_document_bytes: int) -> dict[str, Any]:
    """The evidence the form posted; blank optional fields are left out."""
    evidence: dict[str, Any] = {}
    for f in form_fields(model):
        if f.widget == "files":
            documents = []
            for upload in form.getlist(f.name):
                if not isinstance(upload, UploadFile) or not upload.filename:
                    continue
                content = await upload.read(max_document_bytes + 1)
                if len(content) > max_document_bytes:
                    raise FormProblem(f"{f.name}: '{upload.filename}' is over "
                                      f"{max_document_bytes} bytes")
                documents.append({"filename": upload.filename,
                                  "media_type": upload.content_type or "application/pdf",
                                  "content_base64": base64.b64encode(content).decode()})
            if documents:
                evidence[f.name] = documents
            continue
        if f.widget == "choices":
            picked = [str(v) for v in form.getlist(f.name)]
            if picked:
                evidence[f.name] = picked
            continue
        value = form.get(f.name)
        text = value.strip() if isinstance(value, str) else ""
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
        elif f.widget == "json":
            try:
                evidence[f.name] = json.loads(text)
            except json.JSONDecodeError as exc:
                raise FormProblem(f"{f.name}: malformed JSON: {exc.msg}") from None
            except RecursionError:
                raise FormProblem(f"{f.name}: JSON nested too deeply") from None
        else:
            evidence[f.name] = text
    return evidence
