"""What each logged record says: built from a case event, or from the row the event is about.

Records for evidence, documents, refusals, decisions and draft versions are a pure
function of their database row, so `verify` can rebuild them from the rows as they are
now and name the first one that no longer matches its leaf. Every other event (stage
transitions, case opened/closed, notices of any kind) is logged as the event says.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic_core import to_jsonable_python

from dueprocess.journal import CaseEvent
from dueprocess.ledger.rows import RowRef
from dueprocess.services.payloads import canonical_sha256
from ledger import utc_timestamp
from ledger.records import KIND_PATTERN
from models.cases import DraftVersion
from models.decisions import Decision
from models.evidence import Document, EvidenceItem, Refusal

# Kinds whose record is rebuilt from a row by `verify`.
EVIDENCE, DOCUMENT, REFUSAL = "evidence", "document", "refusal"
DECISION, DRAFT = "decision", "draft"
ROW_KINDS = frozenset({EVIDENCE, DOCUMENT, REFUSAL, DECISION, DRAFT})

# Event kinds whose subject row is logged in full; `<action>.refused` events (a refused
# revision, assignment, …) are refusal rows too. The rest map generically.
ROW_EVENTS = {"evidence.recorded": EVIDENCE, "case.decided": DECISION}
REFUSED_SUFFIX = ".refused"
_TRANSITIONS = {"stage.opened", "stage.completed", "stage.reopened"}
_KIND_RE = re.compile(KIND_PATTERN)


def row_kind(event_kind: str) -> str | None:
    """The row kind an event logs in full, or None for an event logged as it comes."""
    if event_kind.endswith(REFUSED_SUFFIX):
        return REFUSAL
    return ROW_EVENTS.get(event_kind)


@dataclass(frozen=True)
class RecordSpec:
    """A record without its chain position (`case_seq`, `case_prev` are the log's job)."""

    case_id: str
    kind: str
    subject_id: int | None
    body: dict[str, Any] = field(default_factory=dict)
    file_sha256: str | None = None
    # Covered rows whose snapshots (taken when the record is appended) go under "rows".
    rows: tuple[RowRef, ...] = ()
    closes_case: bool = False  # the record that ends the case's chain


def record_kind(event_kind: str) -> str:
    """Record kind of an event kind: the kind of the row it logs in full, else
    `generic_kind`."""
    return row_kind(event_kind) or generic_kind(event_kind)


def generic_kind(event_kind: str) -> str:
    """Kind of an event logged as it comes: `transition`, or its first dotted part
    (`case.opened` -> `case`, `notice.published` -> `notice`), never a row's kind
    (`evidence.late` -> `evidence-late`), since `verify` rebuilds those from rows."""
    if event_kind in _TRANSITIONS:
        return "transition"
    clean = re.sub(r"[^a-z0-9_.-]", "-", event_kind.lower())[:64]
    head = clean.split(".", 1)[0]
    if head in ROW_KINDS:
        head = clean.replace(".", "-")
    return head if _KIND_RE.match(head) and head not in ROW_KINDS else "event"


CASE_CLOSED_EVENT = "case.closed"
# Events whose record ends their chain: a case's closure, a ballot's tally (programme).
CHAIN_CLOSING_EVENTS = frozenset({CASE_CLOSED_EVENT, "ballot.closed"})


def event_spec(event: CaseEvent, rows: tuple[RowRef, ...] = ()) -> RecordSpec:
    """The record of an event that is not about an evidence, refusal or decision row;
    *rows* are the covered rows it is about."""
    body = {
        "event": event.kind,
        "occurred_at": utc_timestamp(event.occurred_at),
        "stage_key": event.stage_key,
        "person": event.person,
        "subject_id": event.subject_id,
        "digest": event.digest,
        # Features may put dates, enums or UUIDs in bodies; log their JSON form.
        "body": to_jsonable_python(event.body),
    }
    return RecordSpec(event.case_id, generic_kind(event.kind), event.subject_id, body,
                      rows=rows, closes_case=event.kind in CHAIN_CLOSING_EVENTS)


def evidence_spec(item: EvidenceItem) -> RecordSpec:
    """Evidence row: every column, the payload by its RFC 8785 digest (the dossier file)."""
    assert item.id is not None
    return RecordSpec(item.case_id, EVIDENCE, item.id, {
        "event": "evidence.recorded",
        "evidence_id": item.id,
        "stage_key": item.stage_key,
        "evidence_kind": item.kind,
        "recorded_by": item.recorded_by,
        "draft_version": item.draft_version,
        "idempotency_key": item.idempotency_key,
        "channel": item.channel,
        "recorded_at": utc_timestamp(item.recorded_at),
        "payload_sha256": item.payload_sha256,
    }, file_sha256=canonical_sha256(item.payload))


def document_references(item: EvidenceItem) -> list[dict[str, Any]]:
    """The documents an evidence payload refers to, as stored by `split_documents`."""
    references = item.payload.get("documents") or []
    return [r for r in references if isinstance(r, dict) and isinstance(r.get("sha256"), str)]


@dataclass(frozen=True)
class DocumentFacts:
    """What a document record says about the stored bytes (hashed once, kept small)."""

    media_type: str
    size: int
    content_sha256: str


def document_facts(document: Document) -> DocumentFacts:
    return DocumentFacts(document.media_type, document.size,
                         hashlib.sha256(document.content).hexdigest())


def document_spec(item: EvidenceItem, reference: Mapping[str, Any],
                  document: DocumentFacts) -> RecordSpec:
    """One document attached to an evidence item, bound to the log by its content hash."""
    assert item.id is not None
    return RecordSpec(item.case_id, DOCUMENT, item.id, {
        "evidence_id": item.id,
        "filename": reference.get("filename"),
        "media_type": document.media_type,
        "size": document.size,
    }, file_sha256=document.content_sha256)


def refusal_spec(refusal: Refusal, event_kind: str) -> RecordSpec:
    """A refused action's audit row; *event_kind* says which action (`evidence.refused`,
    `revision.refused`, …)."""
    assert refusal.id is not None
    return RecordSpec(refusal.case_id, REFUSAL, refusal.id, {
        "event": event_kind,
        "refusal_id": refusal.id,
        "stage_key": refusal.stage_key,
        "submitted_by": refusal.submitted_by,
        "channel": refusal.channel,
        "idempotency_key": refusal.idempotency_key,
        "reasons": refusal.reasons,
        "recorded_at": utc_timestamp(refusal.recorded_at),
    })


def decision_spec(decision: Decision) -> RecordSpec:
    assert decision.id is not None
    return RecordSpec(decision.case_id, DECISION, decision.id, {
        "event": "case.decided",
        "decision_id": decision.id,
        "evidence_id": decision.evidence_id,
        "outcome": decision.outcome,
        "text": decision.text,
        "decided_by": decision.decided_by,
        "decided_on": decision.decided_on,
        "draft_version": decision.draft_version,
        "recorded_at": utc_timestamp(decision.recorded_at),
    })


def draft_spec(draft: DraftVersion) -> RecordSpec:
    """A draft version; its text is the dossier file, bound by its SHA-256."""
    assert draft.id is not None
    return RecordSpec(draft.case_id, DRAFT, draft.id, {
        "draft_id": draft.id,
        "version": draft.version,
        "title": draft.title,
        "created_at": utc_timestamp(draft.created_at),
        "sha256": draft.sha256,
    }, file_sha256=hashlib.sha256(draft.text.encode("utf-8")).hexdigest())
