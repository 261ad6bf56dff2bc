"""Cases driven through the scale-out mode: two Prefect API servers on PostgreSQL with
Redis messaging, cases on PostgreSQL, two process workers on one work pool."""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar
from uuid import UUID

import pytest
from sqlmodel import func, select

from dueprocess.db import session_scope
from dueprocess.orchestration.case_runs import resume_after_recording, start_case_run
from dueprocess.services.case_view import case_view
from dueprocess.services.cases import open_case, read_case_file
from dueprocess.services.progress import advance_case
from dueprocess.services.recording import record_evidence
from models.decisions import Decision
from models.evidence import EvidenceItem
from tests.conftest import DEMO_CASE
from tests.scaleout.harness import ScaleOut
from tests.support import (
    RUNS_ONCE,
    VALID_STEPS,
    advance_to_step,
    final_state,
    startups,
    token_for,
)

# Each wait below, and the stack's start-up, is derived from a measured reference start-up;
# a fixed limit for the whole test would break on a loaded machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(0), RUNS_ONCE]
CASES = 2
T = TypeVar("T")


def in_context(function: Callable[..., T]) -> Callable[..., T]:
    """Run in worker threads with this thread's Prefect settings (context variables)."""
    context = contextvars.copy_context()
    return lambda *args: context.copy().run(function, *args)


def drive(case_id: str) -> UUID:
    run_id = start_case_run(case_id)
    advance_case(case_id=case_id)  # participation opens: dueprocess publishes the window
    for number, (stage, by, evidence) in enumerate(VALID_STEPS):
        advance_to_step(case_id, stage)  # the step's day on the case clock
        item = record_evidence(case_id=case_id, stage_key=stage, recorded_by=by,
                               evidence=evidence, channel="cli" if number != 1 else "api",
                               token=token_for(by))
        if number != 1:  # the first expert opinion comes from elsewhere: no resume
            resume_after_recording(item, timeout=startups(45))
    return run_id


def test_cases_run_to_decision_across_servers_and_workers(scaleout: ScaleOut) -> None:
    with session_scope() as session:
        case_ids = [open_case(session, request=read_case_file(DEMO_CASE)).id
                    for _ in range(CASES)]
    with ThreadPoolExecutor(CASES) as pool:
        runs = list(pool.map(in_context(drive), case_ids))
    for run_id in runs:
        assert final_state(run_id, timeout=startups(70)).is_completed()
    with session_scope() as session:
        for case_id in case_ids:
            view = case_view(case_id)
            assert view.case.status.value == "closed", case_id
            assert all(s.status.value == "completed" for s in view.stages)
            # Stages completed in the procedure's order: none was skipped.
            done = {s.key: s.completed_at for s in view.stages if s.completed_at}
            assert done["legality_review"] >= max(
                done["public_participation"], done["expert_review"], done["risk_assessment"])
            assert done["legality_review"] <= done["collective_decision"] <= done["publication"]
            keys = session.exec(select(EvidenceItem.idempotency_key)
                                .where(EvidenceItem.case_id == case_id)).all()
            assert len(keys) == len(set(keys)) == len(VALID_STEPS)
            assert session.exec(select(func.count()).select_from(Decision)
                                .where(Decision.case_id == case_id)).one() == 1
    # Both workers ran flows, and each talks to a different API server.
    logs = [w.log_path.read_text(errors="replace") for w in scaleout.workers]
    assert all("Submitting flow run" in log or "submitting flow run" in log.lower()
               for log in logs), [log[-2000:] for log in logs]


def test_events_and_triggers_work_on_postgres_with_redis(scaleout: ScaleOut) -> None:
    """The dueprocess events reach the feed of the other API server, and the
    evidence-recorded trigger (an automation) fires: Prefect #19332 does not bite here."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
    from prefect.events.filters import EventFilter, EventNameFilter

    kinds = ("case.opened", "stage.opened", "evidence.recorded", "stage.completed",
             "case.decided", "case.closed")
    with get_client(sync_client=True) as client:
        for kind in kinds:
            deadline = time.monotonic() + 60  # the event persister writes in batches
            while (total := client.read_events(EventFilter(event=EventNameFilter(
                    name=[f"dueprocess.{kind}"])), limit=50).total) < CASES:
                assert time.monotonic() < deadline, (kind, total)
                time.sleep(1)
        resumed = client.read_flow_runs(deployment_filter=DeploymentFilter(
            name=DeploymentFilterName(any_=["resume-case"])), limit=200)
    assert any(r.parameters.get("reason") == "evidence recorded" for r in resumed)
    assert all(r.state is None or not r.state.is_failed() for r in resumed)
