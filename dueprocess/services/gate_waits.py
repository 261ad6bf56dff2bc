"""The gate waits of a case's flow run: one row per suspension, consumed at most once.

A wait's key is the Prefect pause key. Because the key is read back from the database, a
flow body rerun from the top asks for the same key, Prefect hands back the same input, and
the wait is consumed once however often the body reruns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from dueprocess.db import session_scope
from dueprocess.errors import Refused
from dueprocess.services.cases import get_case
from dueprocess.services.recording import record_submission
from models.base import utcnow
from models.cases import CaseStatus
from models.evidence import EvidenceItem, GateWait


@dataclass(frozen=True)
class WaitOutcome:
    key: str
    evidence_id: int | None = None
    refusal_id: int | None = None
    reasons: tuple[str, ...] = ()


def latest_wait(session: Session, case_id: str) -> GateWait | None:
    return session.exec(
        select(GateWait).where(GateWait.case_id == case_id).order_by(col(GateWait.seq).desc())
    ).first()


def waiting_gate(*, case_id: str, flow_run_id: str) -> GateWait | None:
    """The run's pending wait while it holds the open case: a rerun resumed at its gate
    reads its input there first, with no task run before it."""
    with session_scope() as session:
        case = get_case(session, case_id)
        if case.flow_run_id != flow_run_id or case.status is CaseStatus.CLOSED:
            return None
        wait = latest_wait(session, case_id)
    if wait is None or wait.consumed_at is not None or wait.flow_run_id != flow_run_id:
        return None
    return wait


def prepare_wait(*, case_id: str, flow_run_id: str, stage_keys: list[str]) -> GateWait:
    """The run's pending wait, or a new one for the stages open now."""
    with session_scope() as session:
        get_case(session, case_id, lock=True)
        latest = latest_wait(session, case_id)
        if latest is not None and latest.consumed_at is None:
            if latest.flow_run_id == flow_run_id:
                return latest
            # Left by a run that no longer drives the case; its key cannot be resumed here.
            latest.consumed_at = utcnow()
            session.add(latest)
        seq = latest.seq + 1 if latest is not None else 1
        wait = GateWait(case_id=case_id, seq=seq, key=f"evidence-{seq}",
                        flow_run_id=flow_run_id, stage_keys=stage_keys)
        session.add(wait)
        session.flush()
        return wait


def _mark_consumed(
    case_id: str, key: str, *, evidence_id: int | None, refusal_id: int | None
) -> None:
    with session_scope() as session:
        wait = session.exec(
            select(GateWait).where(GateWait.case_id == case_id, GateWait.key == key)
        ).one()
        if wait.consumed_at is None:
            wait.consumed_at = utcnow()
            wait.evidence_id, wait.refusal_id = evidence_id, refusal_id
            session.add(wait)


def consume_wait(*, case_id: str, key: str, raw: Mapping[str, Any] | None) -> WaitOutcome:
    """Record what a resumed run received at `key` (nothing, a reference, or a submission)."""
    with session_scope() as session:
        wait = session.exec(
            select(GateWait).where(GateWait.case_id == case_id, GateWait.key == key)
        ).one()
        if wait.consumed_at is not None:
            return WaitOutcome(key, wait.evidence_id, wait.refusal_id)
        reference = raw.get("recorded_evidence_id") if raw else None
        if reference is not None:
            item = session.get(EvidenceItem, reference)
            if item is not None and item.case_id == case_id:
                # Recorded through the CLI or API before the run was resumed.
                wait.consumed_at, wait.evidence_id = utcnow(), item.id
                session.add(wait)
                return WaitOutcome(key, item.id)
    if raw is None:
        # Rescheduled without input (a rerun, not a resume): nothing to record.
        _mark_consumed(case_id, key, evidence_id=None, refusal_id=None)
        return WaitOutcome(key)
    try:
        item = record_submission(case_id=case_id, raw=raw, channel="prefect-form",
                                 default_key=f"{case_id}-{key}")
    except Refused as refused:
        _mark_consumed(case_id, key, evidence_id=None, refusal_id=refused.refusal_id)
        return WaitOutcome(key, refusal_id=refused.refusal_id,
                           reasons=tuple(str(p) for p in refused.problems))
    _mark_consumed(case_id, key, evidence_id=item.id, refusal_id=None)
    return WaitOutcome(key, evidence_id=item.id)
