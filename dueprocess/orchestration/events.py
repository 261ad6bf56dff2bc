"""Prefect events feature: every case event becomes a `dueprocess.*` Prefect event after
its transaction commits.

The journal calls `queue_for_prefect` inside the transaction of each change; the event is
kept on the session and emitted with `prefect.events.emit_event` only once the
transaction has committed, so nothing reacts to a change that was rolled back. Each event
names the case as its resource (`dueprocess.case.<id>`), the stage and the person as
related resources, and carries ids and digests only: never documents, texts or secrets.

Events are emitted only when `PREFECT_API_URL` names a server (Prefect would otherwise
start an ephemeral one inside a CLI call). Emitting never fails the change it reports:
the change is already committed, and Prefect's events worker sends in the background.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import event as sa_event
from sqlmodel import Session

from dueprocess.journal import CaseEvent
from dueprocess.orchestration.advance_after_commit import advance_after_evidence
from dueprocess.orchestration.faults import fault_point
from dueprocess.settings import get_ops_settings

logger = logging.getLogger(__name__)

NAMESPACE = "dueprocess"
# The transitions announced to Prefect (other journal kinds stay internal).
EMITTED_KINDS = frozenset({
    "case.opened", "stage.opened", "evidence.recorded", "evidence.refused",
    "stage.completed", "case.sent_back", "case.decided", "notice.published",
    "deadline.missed", "case.closed", "draft.revised", "supervision.overdue",
    "evaluation.due",
})
# What `subject_id` is, per kind, in the payload.
SUBJECT_NAMES = {
    "evidence.recorded": "evidence_id", "evidence.refused": "refusal_id",
    "case.decided": "decision_id", "notice.published": "notice_id",
    "deadline.missed": "escalation_id", "draft.revised": "draft_version_id",
    "supervision.overdue": "supervision_id", "evaluation.due": "evaluation_due_id",
}
# Body fields that are ids, digests, counts or short enums; anything else is dropped.
PAYLOAD_FIELDS = frozenset({
    "channel", "kind", "draft_version", "documents", "outcome", "decided_on", "evidence_id",
    "procedure_id", "draft_sha256", "notice_kind", "delivered", "failed", "skipped",
    "deadline", "deadline_days", "opened_at", "escalated_to", "version", "sha256",
    "from_stage", "to_stage", "item_id", "milestone_id", "due_on", "implements",
    "evaluates", "reason", "requests",
})
EVENT_ID_NAMESPACE = uuid.UUID("5b0d7a3e-2f7c-4a51-9b1e-0d9e1c6a7f42")
_QUEUE = "dueprocess_prefect_events"


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float) or (
        isinstance(value, str) and len(value) <= 100
    )


def event_payload(event: CaseEvent) -> dict[str, Any]:
    payload: dict[str, Any] = {"case_id": event.case_id}
    if event.stage_key:
        payload["stage_key"] = event.stage_key
    if event.person:
        payload["person"] = event.person
    if event.subject_id is not None:
        payload[SUBJECT_NAMES.get(event.kind, "subject_id")] = event.subject_id
    if event.digest:
        payload["sha256"] = event.digest
    for key, value in event.body.items():
        if key in PAYLOAD_FIELDS and (
            _scalar(value) or (isinstance(value, list) and all(_scalar(v) for v in value))
        ):
            payload.setdefault(key, value)
    reasons = event.body.get("reasons")
    if isinstance(reasons, list):  # refusals: the rule ids, not the messages
        payload["rules"] = sorted({str(r.get("rule")) for r in reasons if isinstance(r, dict)})
    return payload


def case_resource(case_id: str) -> dict[str, str]:
    return {"prefect.resource.id": f"{NAMESPACE}.case.{case_id}",
            "prefect.resource.name": case_id, f"{NAMESPACE}.case.id": case_id}


def related_resources(event: CaseEvent) -> list[dict[str, str]]:
    related = []
    channel = event.body.get("channel")
    if isinstance(channel, str) and channel:
        # A related resource, so that a trigger can leave out the flow's own form.
        related.append({"prefect.resource.id": f"{NAMESPACE}.channel.{channel}",
                        "prefect.resource.role": "channel", "prefect.resource.name": channel})
    if event.stage_key:
        related.append({
            "prefect.resource.id": f"{NAMESPACE}.stage.{event.case_id}.{event.stage_key}",
            "prefect.resource.role": "stage", "prefect.resource.name": event.stage_key,
        })
    for role, handle in (("person", event.person), ("official", event.body.get("escalated_to"))):
        if isinstance(handle, str) and handle:
            related.append({"prefect.resource.id": f"{NAMESPACE}.person.{handle}",
                            "prefect.resource.role": role, "prefect.resource.name": handle})
    return related


def event_id(event: CaseEvent) -> uuid.UUID:
    """Deterministic: the same case event always has the same Prefect event id."""
    identity = "|".join(str(part) for part in (
        event.case_id, event.kind, event.stage_key, event.person, event.subject_id,
        event.digest, event.occurred_at.isoformat(),
    ))
    return uuid.uuid5(EVENT_ID_NAMESPACE, identity)


_EMISSION_DISABLED = False


def disable_prefect_events() -> None:
    """For a process that found no Prefect server: its events could only be retried when
    it exits (tens of seconds), and nothing would react to them. Recovery on `dueprocess up`
    catches up with what they would have triggered."""
    global _EMISSION_DISABLED
    _EMISSION_DISABLED = True


def prefect_api_configured() -> bool:
    if _EMISSION_DISABLED:
        return False
    from prefect.settings import PREFECT_API_URL  # deferred: Prefect (1 s), only if events are on

    return bool(PREFECT_API_URL.value())


def emit(event: CaseEvent) -> None:
    """Send one case event to Prefect (in the background); log, never raise."""
    from prefect.events import emit_event  # deferred: only with a Prefect server

    try:
        emit_event(
            f"{NAMESPACE}.{event.kind}", resource=case_resource(event.case_id),
            related=related_resources(event), payload=event_payload(event),
            occurred=event.occurred_at, id=event_id(event),
        )
    except Exception:
        logger.warning("could not emit %s for case %s to Prefect", event.kind, event.case_id,
                       exc_info=True)


def queue_for_prefect(session: Session, event: CaseEvent) -> None:
    fault_point(f"{event.kind}:in-transaction")
    queue: list[tuple[CaseEvent, Any]] | None = session.info.get(_QUEUE)
    if queue is None:
        queue = session.info[_QUEUE] = []
        sa_event.listen(session, "after_commit", _after_commit)
        sa_event.listen(session, "after_soft_rollback", _after_soft_rollback)
    # Remember the (innermost) transaction, so a rolled-back savepoint drops its events.
    queue.append((event, session.get_nested_transaction() or session.get_transaction()))


def _after_commit(session: Session) -> None:
    """Fault points, then the prompt advance of the case, then the Prefect events (whose
    first emission in a process imports Prefect: not on the path to the next stage)."""
    queued = [event for event, _ in session.info.get(_QUEUE) or []]
    session.info[_QUEUE] = []
    if not queued:
        return
    for event in queued:
        fault_point(f"{event.kind}:after-commit")
    advance_after_evidence(queued)
    if not get_ops_settings().prefect_events or not prefect_api_configured():
        return
    for event in queued:
        if event.kind in EMITTED_KINDS:
            emit(event)


def _after_soft_rollback(session: Session, previous_transaction: Any) -> None:
    def inside(transaction: Any) -> bool:
        while transaction is not None:
            if transaction is previous_transaction:
                return True
            transaction = transaction.parent
        return False

    session.info[_QUEUE] = [
        (event, txn) for event, txn in session.info.get(_QUEUE) or [] if not inside(txn)
    ]
