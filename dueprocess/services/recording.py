"""The one way evidence enters a case: the CLI, the Prefect form and the API all call this.

Evidence is validated (schema, size, identity, admission, statutory rules), stored
append-only and bound to the current draft version, and idempotent by a client-supplied
key. A refusal stores no evidence, only an audit record. Evidence that sends the case
back (risk not controllable, a legality review asking for revision) announces it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from dueprocess.clock import system_now
from dueprocess.db import session_scope
from dueprocess.errors import Refused, schema_problems
from dueprocess.journal import CaseEvent, publish
from dueprocess.rules import admission_problems, evaluate_gate, evidence_problems, sent_back
from dueprocess.rules.engine import Unmet
from dueprocess.rules.facts import CaseFacts, EvidenceFact
from dueprocess.services.case_clock import case_time
from dueprocess.services.case_snapshot import load_facts
from dueprocess.services.cases import get_case
from dueprocess.services.identity import PortalLogin, form_proof_problems, identity_problems
from dueprocess.services.payloads import canonical_sha256, split_documents
from dueprocess.services.refusal_audit import RECORD, audit_refusal
from dueprocess.services.task_claims import assign_holder
from dueprocess.settings import get_settings
from models.evidence import Document, EvidenceItem

SUBMISSION_FIELDS = ("recorded_by", "idempotency_key", "recorded_evidence_id", "proof")
FORM_CHANNEL = "prefect-form"
OUT_OF_ORDER = ("STAGE-ORDER", "STAGE-COMPLETED")  # the stage takes no evidence now


def _announce_consequences(
    session: Session, facts: CaseFacts, item: EvidenceItem, model: BaseModel, now: datetime
) -> None:
    """Publish what the stored evidence set off: the case sent back, a duty done late."""
    stored = EvidenceFact(
        id=item.id or 0, stage_key=item.stage_key, evidence=model, recorded_by=item.recorded_by,
        recorded_at=now, draft_version=item.draft_version, payload_sha256=item.payload_sha256,
    )
    result = evaluate_gate(replace(facts, evidence=(*facts.evidence, stored)), item.stage_key,
                           now)
    reasons = sent_back(result)
    if reasons:
        publish(session, CaseEvent(
            case_id=item.case_id, kind="case.sent_back", occurred_at=now, stage_key=item.stage_key,
            person=item.recorded_by, subject_id=item.id, digest=item.payload_sha256,
            body={"draft_version": item.draft_version,
                  "reasons": [u.as_dict() for u in reasons]},
        ))
    if result.flags:
        publish(session, CaseEvent(
            case_id=item.case_id, kind="evidence.late", occurred_at=now, stage_key=item.stage_key,
            person=item.recorded_by, subject_id=item.id, digest=item.payload_sha256,
            body={"flags": [u.as_dict() for u in result.flags]},
        ))


def _record(
    session: Session, *, case_id: str, stage_key: str, recorded_by: str,
    evidence: Mapping[str, Any], idempotency_key: str | None, channel: str, now: datetime,
    token: str | None, proof: str | None = None, login: PortalLogin | None = None,
) -> EvidenceItem:
    case = get_case(session, case_id, lock=True)
    # The Prefect form proves who submitted with a code or signature bound to the evidence
    # digest, checked once the digest is known; every other channel with a token or login.
    by_form_proof = channel == FORM_CHANNEL and token is None and login is None
    if not by_form_proof:
        identity = identity_problems(session, handle=recorded_by, token=token,
                                     channel=channel, login=login)
        if identity:
            raise Refused(identity)
    facts = load_facts(session, case)
    if stage_key not in facts.procedure.stage_keys:
        raise Refused(admission_problems(facts, stage_key, recorded_by))
    kind = facts.procedure.stage(stage_key).stage_kind
    try:
        model = kind.evidence.model_validate(evidence)
    except ValidationError as exc:
        raise Refused(schema_problems(exc.errors(), prefix="evidence.")) from None  # type: ignore[arg-type]
    settings = get_settings()
    payload, documents = split_documents(
        model, max_document_bytes=settings.max_document_bytes,
        max_evidence_bytes=settings.max_evidence_bytes,
    )
    digest = canonical_sha256(payload)
    if by_form_proof:
        identity = form_proof_problems(session, proof=proof, handle=recorded_by,
                                       case_id=case_id, stage_key=stage_key,
                                       evidence_sha256=digest,
                                       now=system_now())  # credentials: real time
        if identity:
            raise Refused(identity)
    # Without a client key, the same content by the same person on the same draft is a
    # retry; on a revised draft it is a new submission.
    key = idempotency_key or "sha256-" + hashlib.sha256(
        f"{stage_key}\0{recorded_by}\0{digest}\0v{facts.draft_version}".encode()
    ).hexdigest()
    existing = session.exec(select(EvidenceItem).where(
        EvidenceItem.case_id == case_id, EvidenceItem.idempotency_key == key
    )).first()
    if existing is not None:
        if (existing.stage_key, existing.recorded_by, existing.payload_sha256) == (
            stage_key, recorded_by, digest
        ):
            return existing  # a retry of the same submission
        raise Refused([Unmet(
            "IDEMPOTENCY-KEY", "idempotency",
            f"idempotency_key '{key}' was already used for different content "
            f"(evidence #{existing.id})",
        )])
    problems = admission_problems(facts, stage_key, recorded_by)
    if not any(p.rule in OUT_OF_ORDER for p in problems):  # else its dates mean nothing yet
        problems += evidence_problems(facts, stage_key, model, now, recorded_by=recorded_by)
    if problems:
        raise Refused(problems)
    for document in documents:
        if session.get(Document, document.sha256) is None:
            session.add(Document(sha256=document.sha256, media_type=document.media_type,
                                 size=len(document.content), content=document.content))
    item = EvidenceItem(
        case_id=case_id, stage_key=stage_key, kind=kind.name, payload=payload,
        payload_sha256=digest, recorded_by=recorded_by, draft_version=facts.draft_version,
        idempotency_key=key, channel=channel, recorded_at=now,
    )
    session.add(item)
    session.flush()
    publish(session, CaseEvent(
        case_id=case_id, kind="evidence.recorded", occurred_at=now, stage_key=stage_key,
        person=recorded_by, subject_id=item.id, digest=digest,
        body={"kind": kind.name, "channel": channel, "draft_version": facts.draft_version,
              "documents": [d.sha256 for d in documents]},
    ))
    _announce_consequences(session, facts, item, model, now)
    return item


def record_evidence(
    *, case_id: str, stage_key: str, recorded_by: str, evidence: Mapping[str, Any],
    idempotency_key: str | None = None, channel: str, now: datetime | None = None,
    refusal_key: str | None = None, token: str | None = None, proof: str | None = None,
    login: PortalLogin | None = None, as_holder: bool = False,
) -> EvidenceItem:
    """Validate and store one piece of evidence, or raise `Refused` naming every reason.

    Raises `NotFound` for an unknown case. `refusal_key` makes the refusal audit record
    itself idempotent (a flow rerun refuses the same input only once). The recorder proves
    who they are with `token` (their API token), `login` (the portal inbox's verified
    login) or, on the Prefect form, `proof` (a single-use form code or an Ed25519
    signature bound to the evidence): with none of them nothing is stored. `as_holder`:
    the recorder holds the claimed task and is assigned in this same transaction.
    """
    now = now or case_time(case_id)
    try:
        for attempt in (1, 2):
            try:
                with session_scope() as session:
                    if as_holder:
                        assign_holder(session, case_id=case_id, stage_key=stage_key,
                                      handle=recorded_by, now=now)
                    return _record(
                        session, case_id=case_id, stage_key=stage_key, recorded_by=recorded_by,
                        evidence=evidence, idempotency_key=idempotency_key, channel=channel,
                        now=now, token=token, proof=proof, login=login,
                    )
            except IntegrityError:
                # A concurrent retry won the insert; the second attempt answers as a retry.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")
    except Refused as refused:
        refused.refusal_id = audit_refusal(
            case_id=case_id, action=RECORD, stage_key=stage_key, submitted_by=recorded_by,
            channel=channel, idempotency_key=refusal_key or idempotency_key,
            problems=refused.problems, now=now,
        )
        raise


def parse_submission(raw: Mapping[str, Any] | None) -> tuple[str, str, str | None, dict[str, Any]]:
    """Split a form submission into (stage, recorded_by, idempotency key, evidence).

    A submission names the recorder and fills in exactly one stage section.
    """
    if not raw:
        raise Refused([Unmet("SUBMISSION-SHAPE", "form", "the submission is empty")])
    recorded_by = raw.get("recorded_by")
    if not isinstance(recorded_by, str) or not recorded_by:
        raise Refused([Unmet("SCHEMA", "schema", "recorded_by: Field required")])
    sections = {k: v for k, v in raw.items() if k not in SUBMISSION_FIELDS and v is not None}
    if len(sections) != 1:
        named = ", ".join(sorted(sections)) or "none"
        raise Refused([Unmet(
            "SUBMISSION-SHAPE", "form",
            f"fill in exactly one stage section (filled: {named})",
        )])
    [(stage_key, evidence)] = sections.items()
    if not isinstance(evidence, Mapping):
        raise Refused([Unmet("SCHEMA", "schema", f"{stage_key}: expected an object")])
    key = raw.get("idempotency_key")
    return stage_key, recorded_by, key if isinstance(key, str) and key else None, dict(evidence)


def record_submission(
    *, case_id: str, raw: Mapping[str, Any] | None, channel: str, default_key: str,
    now: datetime | None = None,
) -> EvidenceItem:
    """Record a form-shaped submission (one stage section filled in).

    `default_key` stands in for a blank idempotency key, so that the same form input
    replayed by a rerun flow body is stored once.
    """
    now = now or case_time(case_id)
    try:
        stage_key, recorded_by, key, evidence = parse_submission(raw)
    except Refused as refused:
        submitted_by = raw.get("recorded_by") if raw else None
        refused.refusal_id = audit_refusal(
            case_id=case_id, action=RECORD, stage_key=None,
            submitted_by=submitted_by if isinstance(submitted_by, str) else None,
            channel=channel, idempotency_key=default_key, problems=refused.problems, now=now,
        )
        raise
    proof = raw.get("proof") if raw else None
    return record_evidence(
        case_id=case_id, stage_key=stage_key, recorded_by=recorded_by, evidence=evidence,
        idempotency_key=key or default_key, channel=channel, now=now, refusal_key=default_key,
        proof=proof if isinstance(proof, str) else None,
    )
