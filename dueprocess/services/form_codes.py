"""Single-use codes for the Prefect form: issued to a person who proves who they are.

The Prefect server keeps every form input in its own database, where an API token would
sit as a reusable secret. A form code is bound to the case, the stage and the person (the
evidence it was asked for is checked against the schema and kept for the record); it is
stored only as a keyed digest, consumed by the one recording it proves (a refusal leaves it
valid), and the gate deletes the form input from Prefect once it has taken it. Issuing
one needs the person's API token; a refusal is audited like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from dueprocess.db import session_scope
from dueprocess.errors import Refused, schema_problems
from dueprocess.rules.engine import Unmet
from dueprocess.services import identity
from dueprocess.services.cases import get_case
from dueprocess.services.payloads import canonical_sha256, split_documents
from dueprocess.services.refusal_audit import audit_refusal
from dueprocess.settings import get_settings
from models.base import utcnow
from models.procedure import ProcedureDefinition


def evidence_digest(*, procedure: ProcedureDefinition, stage_key: str,
                    evidence: Mapping[str, Any]) -> str:
    """The digest the recording path computes for this evidence (documents by digest)."""
    if stage_key not in procedure.stage_keys:
        raise Refused([Unmet("STAGE-KNOWN", "procedure",
                             f"stage: unknown stage '{stage_key}' "
                             f"(stages: {', '.join(procedure.stage_keys)})")])
    kind = procedure.stage(stage_key).stage_kind
    try:
        model = kind.evidence.model_validate(evidence)
    except ValidationError as exc:
        raise Refused(schema_problems(exc.errors(), prefix="evidence.")) from None  # type: ignore[arg-type]
    settings = get_settings()
    payload, _ = split_documents(model, max_document_bytes=settings.max_document_bytes,
                                 max_evidence_bytes=settings.max_evidence_bytes)
    return canonical_sha256(payload)


def issue_form_code_as(
    *, case_id: str, stage_key: str, evidence: Mapping[str, Any], token: str | None,
    channel: str, now: datetime | None = None,
) -> tuple[str, str, str]:
    """A form code for the token's holder: (handle, code shown once, evidence digest)."""
    now = now or utcnow()
    handle: str | None = None
    try:
        with session_scope() as session:
            person = identity.authenticated_person(session, token=token)
            handle = person.handle
            case = get_case(session, case_id)
            procedure = ProcedureDefinition.model_validate(case.procedure)
            digest = evidence_digest(procedure=procedure, stage_key=stage_key,
                                     evidence=evidence)
            code = identity.issue_form_code(session, case_id=case_id, stage_key=stage_key,
                                            person=person, evidence_sha256=digest, now=now)
            return person.handle, code, digest
    except Refused as refused:
        refused.refusal_id = audit_refusal(
            case_id=case_id, action="form_code", stage_key=stage_key, submitted_by=handle,
            channel=channel, idempotency_key=None, problems=refused.problems, now=now)
        raise


def form_digest(*, case_id: str, stage_key: str, evidence: Mapping[str, Any]) -> str:
    """The evidence digest a form signature covers (no credential needed: it is public)."""
    with session_scope() as session:
        procedure = ProcedureDefinition.model_validate(get_case(session, case_id).procedure)
    return evidence_digest(procedure=procedure, stage_key=stage_key, evidence=evidence)
