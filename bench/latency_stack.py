"""Benchmark: from evidence recorded to the next stage opened, and to the flow continuing,
on the embedded default and on scale-out, against bare Prefect measured in the same run.

Each case goes through every transition of the demo procedure the way `dueprocess record`
does it: record the evidence, then resume the run waiting at its gate. Measured:

- next stage opened (database): the next stage's `opened_at` minus the evidence's
  `recorded_at`, for the transitions that open a stage;
- next stage opened (event): when the Prefect server received `dueprocess.stage.opened`,
  minus when the evidence was submitted (wall clock: the demo case runs on simulated time,
  which `recorded_at` is in);
- flow continuing: from the evidence recorded (`record_evidence` returned: committed, and
  the next stage opened) until the case's run is running again / suspended at its next
  gate (or finished). Bare Prefect: from `resume_flow_run` until a trivial served flow,
  suspended with `wait_for_input`, is running again / suspended at its next key.

Both arms run on the same Prefect server with the same polling (runner/worker 1 s),
alternating case by case. By default each transition starts on a quiet stack (nothing
running, the triggers' delayed runs of the previous transition done), so it measures one
reviewer's action; `--back-to-back` records the next evidence as soon as the run waits.
"Running again" ends at the run's first Running state on the server (its process has
started and loaded the flow); "at its next gate" when it is suspended again.

    python bench/latency_stack.py --mode embedded --cases 10
    python bench/latency_stack.py --mode scaleout --cases 10
    python bench/latency_stack.py --serve-bare      # (internal) the bare arm's runner
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
# The demo case runs on simulated time, which only a demo or test stack accepts.
os.environ.setdefault("DUEPROCESS_ALLOW_SIMULATED_TIME", "true")

from prefect import flow, suspend_flow_run  # noqa: E402
from prefect.input import RunInput  # noqa: E402

from dueprocess.demo.credentials import token_for  # noqa: E402

BARE = "bare-suspend/bare-suspend"


class Go(RunInput):
    note: str


@flow(name="bare-suspend", persist_result=True)
def bare_suspend(steps: int = 8) -> None:
    """Bare Prefect: suspend at a gate `steps` times, nothing else."""
    for index in range(steps):
        suspend_flow_run(wait_for_input=Go, key=f"k{index}", timeout=None)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# ---- the two stacks ----------------------------------------------------------------------

SETTLE_SECONDS = 2  # for the last transition's events to reach the server's triggers
QUIET_AHEAD = 15  # seconds: longer than the triggers' schedule_after (5 s and 10 s)
QUIET = {"DUEPROCESS_WATCHDOG_INTERVAL_SECONDS": "0",
         "DUEPROCESS_NOTIFY_DELIVERY_INTERVAL_SECONDS": "0"}


@contextmanager
def embedded(work_dir: Path) -> Iterator[tuple[str, str, list[int]]]:
    """(api url, case database url, pids) of a local server + served deployments."""
    from dueprocess.stack.processes import (
        local_prefect_server,
        prefect_environment,
        served_deployments,
    )

    data_dir = work_dir / "data"
    database = f"sqlite:///{data_dir / 'cases.db'}"
    os.environ.update({"DUEPROCESS_DATA_DIR": str(data_dir), "DUEPROCESS_DATABASE_URL": database,
                       **QUIET})
    with local_prefect_server(data_dir) as api_url, served_deployments(data_dir, api_url) as runner:
        env = {**os.environ, **prefect_environment(data_dir, api_url)}
        bare = subprocess.Popen([sys.executable, str(Path(__file__)), "--serve-bare"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            from dueprocess.stack.processes import wait_for_deployment

            wait_for_deployment(BARE, api_url, process=bare)
            yield api_url, database, [runner.pid, bare.pid]
        finally:
            from dueprocess.stack.processes import stop_process

            stop_process(bare)


@contextmanager
def scaleout(work_dir: Path) -> Iterator[tuple[str, str, list[int]]]:
    from tests.scaleout.harness import scale_out, wait_for_workers

    with scale_out(work_dir, workers=2, worker_env={"PYTHONPATH": str(BENCH), **QUIET}) as stack:
        os.environ.update(QUIET)
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: stack.api_urls[0]}):
            wait_for_workers(stack)
            deployment: Any = bare_suspend.to_deployment(name="bare-suspend",
                                                         work_pool_name="dueprocess")
            deployment.entrypoint = "latency_stack.bare_suspend"  # importable on the workers
            deployment.apply()
            pause_schedules()
        yield stack.api_urls[0], stack.cases_url, [w.process.pid for w in stack.workers]


def pause_schedules() -> None:
    """Scale-out registers deployments/prefect.yaml, whose deliver-notices (every 30 s)
    and deadline-watchdog (every 300 s) schedules the embedded default turns off with
    QUIET; pause them so that they are not measured with the transitions."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        for deployment in client.read_deployments():
            for schedule in deployment.schedules:
                if schedule.active:
                    client.update_deployment_schedule(deployment.id, schedule.id, active=False)


# ---- measuring ---------------------------------------------------------------------------

def wait_paused(client: Any, run_id: UUID, key: str | None) -> None:
    """Until the run is suspended at `key` (or final, when None)."""
    while True:
        state = client.read_flow_run(run_id).state
        if state is not None and ((key is None and state.is_final()) or (
            state.is_paused() and state.state_details.pause_key == key)):
            return
        time.sleep(0.02)


def wait_quiet(client: Any) -> None:
    """Until no other flow run is starting or running, nor scheduled to start within
    QUIET_AHEAD seconds (the triggers' delayed runs of the previous transition: resume-case
    after 5 s, notify-reviewers after 10 s), so each transition is measured on its own."""
    from datetime import timedelta

    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterNextScheduledStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    from models.base import utcnow

    busy = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(
        any_=[StateType.RUNNING, StateType.PENDING])))
    time.sleep(SETTLE_SECONDS)  # the last events reached the triggers; delayed runs exist
    while True:
        due = FlowRunFilter(
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
            next_scheduled_start_time=FlowRunFilterNextScheduledStartTime(
                before_=utcnow() + timedelta(seconds=QUIET_AHEAD)))
        if client.count_flow_runs(flow_run_filter=busy) == 0 and \
                client.count_flow_runs(flow_run_filter=due) == 0:
            return
        time.sleep(0.5)


def running_again(client: Any, run_id: UUID, since: float) -> float:
    """Seconds from `since` (wall clock) to the run's first Running state after it."""
    states = client.read_flow_run_states(run_id)
    running = sorted(s.timestamp.timestamp() for s in states
                     if s.is_running() and s.timestamp.timestamp() >= since)
    return running[0] - since


Latencies = tuple[list[float], list[float]]  # (running again, at the next gate)
RECORDING: list[float] = []  # validate, store, log, queue notices, open the next stage
# Evidence id -> wall-clock time it was submitted: the case runs on simulated time, so its
# `recorded_at` (and the events' `occurred`) cannot be compared with the server's clock.
SUBMITTED_AT: dict[int, float] = {}
CLOSED_UNRESUMED: list[str] = []  # cases whose last resume the bench had to send


def resume_closed_case(client: Any, item: Any) -> None:
    """The last evidence closes the case as soon as it is committed (prompt advance), which
    marks the last wait consumed, so `resume_after_recording` finds no gate and leaves the
    run suspended there until the resume-case trigger wakes it (5 s later). Before f358e36
    fixed that in the product, resume it here, so the last transition is measured like the
    others (with the fix `resume_after_recording` resumes it and this is not called)."""
    from dueprocess.db import session_scope
    from dueprocess.orchestration.resume import REFERENCE_PROOF, resume_with_input
    from dueprocess.services.gate_waits import latest_wait

    with session_scope() as session:
        wait = latest_wait(session, item.case_id)
    assert wait is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = client.read_flow_run(UUID(wait.flow_run_id)).state
        if state is not None and state.is_final():
            return
        if state is not None and state.is_paused() and state.state_details.pause_key == wait.key:
            resume_with_input(UUID(wait.flow_run_id), run_input={
                "recorded_by": item.recorded_by, "recorded_evidence_id": item.id,
                "proof": REFERENCE_PROOF})
            return
        time.sleep(0.02)


REJECTED = {"bare": 0, "dueprocess": 0}  # resumes refused: input schema not stored yet


def resume_accepted(run_id: UUID) -> None:
    """Resume a bare run. A run is Suspended a moment before its flow has stored the input
    schema; a resume in between is rejected ("Run input schema not found"): retry."""
    from dueprocess.orchestration.resume import resume_with_input

    for _ in range(200):
        response = resume_with_input(run_id, run_input={"note": "go"})
        if response.status.value == "ACCEPT":
            return
        reason = getattr(response.details, "reason", "") or ""
        if "schema not found" not in reason:
            raise RuntimeError(f"run {run_id} not resumed: {reason}")
        REJECTED["bare"] += 1
        time.sleep(0.05)
    raise RuntimeError(f"run {run_id}: input schema never stored")


def bare_case(steps: int, isolate: bool) -> Latencies:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    run: Any = run_deployment(BARE, parameters={"steps": steps}, timeout=0)
    running, gates = [], []
    with get_client(sync_client=True) as client:
        wait_paused(client, run.id, "k0")
        for step in range(steps):
            if isolate:
                wait_quiet(client)
            since, started = time.time(), time.perf_counter()
            resume_accepted(run.id)
            wait_paused(client, run.id, f"k{step + 1}" if step + 1 < steps else None)
            gates.append(time.perf_counter() - started)
            running.append(running_again(client, run.id, since))
    return running, gates


def our_case(isolate: bool) -> tuple[str, Latencies]:
    from prefect.client.orchestration import get_client

    from bench._stack import DEMO_CASE, VALID_STEPS, advance_to_step
    from dueprocess.db import session_scope
    from dueprocess.orchestration.case_runs import (
        resume_after_recording,
        start_case_run,
        wait_for_gate,
    )
    from dueprocess.services.cases import open_case, read_case_file
    from dueprocess.services.gate_waits import latest_wait
    from dueprocess.services.recording import record_evidence

    with session_scope() as session:
        case_id = open_case(session, request=read_case_file(DEMO_CASE)).id
    run_id = start_case_run(case_id)
    assert wait_for_gate(case_id, timeout=300), "no first gate"
    running, gates = [], []
    with get_client(sync_client=True) as client:
        for number, (stage, by, evidence) in enumerate(VALID_STEPS, start=1):
            advance_to_step(case_id, stage)  # the step's day on the case clock
            if isolate:
                wait_quiet(client)
            with session_scope() as session:
                before = latest_wait(session, case_id)
            submitted, submitted_at = time.perf_counter(), time.time()
            item = record_evidence(case_id=case_id, stage_key=stage, recorded_by=by,
                                   evidence=evidence, channel="bench", token=token_for(by))
            # Recorded: committed, and the next stage opened (prompt advance). From here on
            # it is what bare Prefect does too: resume the run, and it continues.
            since, started = time.time(), time.perf_counter()
            RECORDING.append(started - submitted)
            SUBMITTED_AT[item.id or 0] = submitted_at
            outcome = resume_after_recording(item, timeout=300)
            for _ in range(200):  # the same race as the bare arm's (see resume_accepted)
                if "schema not found" not in outcome:
                    break
                REJECTED["dueprocess"] += 1
                time.sleep(0.05)
                outcome = resume_after_recording(item, timeout=300)
            if "could not be resumed" in outcome and "not paused" not in outcome:
                raise RuntimeError(outcome)  # "not paused": the resume-case trigger of an
                # earlier transition woke the run first; it continues all the same
            if number == len(VALID_STEPS) and not outcome.startswith("resumed"):
                CLOSED_UNRESUMED.append(case_id)
                resume_closed_case(client, item)
            if number == len(VALID_STEPS):
                wait_paused(client, run_id, None)
            else:
                deadline = time.monotonic() + 300
                while True:  # a new wait, and the run suspended at it
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"case {case_id}: no new gate after 300 s")
                    with session_scope() as session:
                        wait = latest_wait(session, case_id)
                    if wait is not None and before is not None and wait.seq > before.seq:
                        break
                    time.sleep(0.02)
                wait_paused(client, run_id, wait.key)
            gates.append(time.perf_counter() - started)
            running.append(running_again(client, run_id, since))
    return case_id, (running, gates)


def stage_opening_latencies(case_ids: list[str]) -> tuple[list[float], list[float]]:
    """(database, event received) latencies from the evidence that opened each stage."""
    from prefect.client.orchestration import get_client
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter
    from sqlmodel import col, select

    from dueprocess.db import session_scope
    from models.evidence import EvidenceItem
    from models.stages import Stage

    database, received = [], []
    with get_client(sync_client=True) as client:
        for case_id in case_ids:
            with session_scope() as session:
                items = list(session.exec(select(EvidenceItem).where(
                    EvidenceItem.case_id == case_id).order_by(col(EvidenceItem.id))))
                stages = list(session.exec(select(Stage).where(Stage.case_id == case_id)))
            events = client.read_events(EventFilter(
                event=EventNameFilter(name=["dueprocess.stage.opened"]),
                resource=EventResourceFilter(id=[f"dueprocess.case.{case_id}"])), limit=50).events
            by_stage = {e.payload.get("stage_key"): e for e in events}
            for stage in stages:
                if stage.opened_at is None:
                    continue
                cause = [i for i in items if i.recorded_at <= stage.opened_at]
                if not cause:  # opened when the case started, not by evidence
                    continue
                recorded = cause[-1].recorded_at
                database.append((stage.opened_at - recorded).total_seconds())
                submitted_at = SUBMITTED_AT.get(cause[-1].id or 0)
                if stage.key in by_stage and submitted_at is not None:
                    received.append(by_stage[stage.key].received.timestamp() - submitted_at)
    return database, received


def measure(mode: str, cases: int, isolate: bool, stack: Callable[[Path], Any]) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from bench._stack import VALID_STEPS
    from dueprocess.settings import get_settings

    work_dir = Path(tempfile.mkdtemp(prefix=f"dueprocess-latency-{mode}-"))
    with stack(work_dir) as (api_url, database, _pids):
        os.environ.update({"DUEPROCESS_DATABASE_URL": database, "PREFECT_API_URL": api_url})
        get_settings.cache_clear()
        from dueprocess.composition.journal import wire
        from dueprocess.db import migrate

        wire()  # before this process's first write (the bare arm's runner writes nothing)
        migrate()
        with temporary_settings({PREFECT_API_URL: api_url}):
            bare_case(2, isolate=False)  # warm both arms up
            our_case(isolate=False)
            RECORDING.clear()
            CLOSED_UNRESUMED.clear()
            REJECTED.update(bare=0, dueprocess=0)
            bare: Latencies = ([], [])
            ours: Latencies = ([], [])
            case_ids = []
            for _ in range(cases):
                for into, got in zip(bare, bare_case(len(VALID_STEPS), isolate), strict=True):
                    into += got
                case_id, latencies = our_case(isolate)
                for into, got in zip(ours, latencies, strict=True):
                    into += got
                case_ids.append(case_id)
            time.sleep(3)  # the last events reach the server
            try:
                database, received = stage_opening_latencies(case_ids)
            except Exception as exc:  # report the flow latencies measured anyway
                print(f"stage opening latencies not read: {exc!r}", flush=True)
                database, received = [], []
    report(mode, cases, len(VALID_STEPS), isolate, bare, ours, database, received)


def report(mode: str, cases: int, steps: int, isolate: bool, bare: Latencies,
           ours: Latencies, database: list[float], received: list[float]) -> None:
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}")
    print(f"mode {mode}: {cases} cases x {steps} transitions, polling 1 s, alternating arms, "
          + ("each transition on a quiet stack" if isolate else "transitions back to back"))
    print(f"{'':52}{'n':>5}{'p50 s':>9}{'p95 s':>9}{'mean s':>9}")
    rows = (
        ("recording (submitted -> committed, next stage open)", RECORDING),
        ("next stage opened (database)", database),
        ("next stage opened (event received, from submission)", received),
        ("flow running again: dueprocess", ours[0]),
        ("flow running again: bare Prefect", bare[0]),
        ("flow at its next gate: dueprocess", ours[1]),
        ("flow at its next gate: bare Prefect", bare[1]),
    )
    for name, values in rows:
        mean = statistics.mean(values) if values else float("nan")
        print(f"{name:52}{len(values):5}{percentile(values, 0.5):9.3f}"
              f"{percentile(values, 0.95):9.3f}{mean:9.3f}")
    for what, index in (("running again", 0), ("at its next gate", 1)):
        print(f"ratio dueprocess / bare, flow {what}: p50 "
              f"{percentile(ours[index], 0.5) / percentile(bare[index], 0.5):.2f}, p95 "
              f"{percentile(ours[index], 0.95) / percentile(bare[index], 0.95):.2f} "
              f"(target <= 1.1)")
    print(f"next stage opened p50 {percentile(database, 0.5):.3f} s (target <= 0.2)")
    print(f"cases whose last resume the bench sent (case closed by the recording, see "
          f"resume_closed_case): {len(CLOSED_UNRESUMED)} of {cases}")
    print(f"resumes rejected because the run's input schema was not stored yet (retried "
          f"after 50 ms): bare {REJECTED['bare']}, dueprocess {REJECTED['dueprocess']}")
    print("load average at the end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


def main() -> None:
    def stop(signum: int, frame: object) -> None:  # unwind, so the stacks are stopped
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["embedded", "scaleout"], default="embedded")
    parser.add_argument("--cases", type=int, default=10)
    parser.add_argument("--back-to-back", action="store_true",
                        help="do not wait for a quiet stack before each transition")
    parser.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        from prefect import serve

        serve(bare_suspend.to_deployment(name="bare-suspend"), limit=None)  # type: ignore[arg-type]
        return
    measure(args.mode, args.cases, not args.back_to_back,
            embedded if args.mode == "embedded" else scaleout)


if __name__ == "__main__":
    main()
