"""Benchmark: capacity of the stack.

- waiting: N cases (default 1,000) each waiting at its first gate on the embedded
  default (`dueprocess up`'s processes: a Prefect server on SQLite and the served
  deployments). Reports the processes held while they wait (the target is zero: a
  suspended run holds none) and the memory of the stack. Runs are started in batches so
  that the machine never starts more than `--batch` flow processes at once.
- decisions: N cases (default 200) driven to their decision concurrently on scale-out
  (two API servers on PostgreSQL with Redis, cases on PostgreSQL, two process workers),
  as cases per hour, with the peak memory of the stack and the flow-run processes
  the workers started for them.

    python bench/capacity_stack.py waiting [--cases 1000] [--batch 25]
    python bench/capacity_stack.py decisions [--cases 200] [--concurrency 10]
"""

from __future__ import annotations

import argparse
import contextvars
import os
import platform
import re
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from dueprocess.demo.credentials import token_for

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# The demo case runs on simulated time, which only a demo or test stack accepts.
os.environ.setdefault("DUEPROCESS_ALLOW_SIMULATED_TIME", "true")

QUIET = {"DUEPROCESS_WATCHDOG_INTERVAL_SECONDS": "0",
         "DUEPROCESS_NOTIFY_DELIVERY_INTERVAL_SECONDS": "0"}


Process = tuple[int, str, int, str | None]  # pid, command, RSS bytes, flow run id


def processes(marker: str) -> list[Process]:
    """Live processes whose environment has marker (VAR=value), with the flow run each
    executes (Prefect's runner and workers set PREFECT__FLOW_RUN_ID)."""
    needle = marker.encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            if needle not in environ:
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
            rss = int((entry / "statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            continue
        run = next((v.split(b"=", 1)[1].decode() for v in environ
                    if v.startswith(b"PREFECT__FLOW_RUN_ID=")), None)
        found.append((int(entry.name), command, rss, run))
    return found


class MemoryWatch:
    """Samples the stack's total RSS every second; keeps the peak."""

    def __init__(self, marker: str) -> None:
        self.marker, self.peak, self.stop = marker, 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(1):
            self.peak = max(self.peak, sum(p[2] for p in processes(self.marker)))


def machine() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}, load average {load} (at the end)")


def held_by(found: list[Process], run_ids: set[str]) -> list[Process]:
    """The processes executing one of `run_ids`."""
    return [p for p in found if p[3] is not None and p[3] in run_ids]


def wait_quiet(client: Any) -> None:
    """Until no flow run is running or pending, nor scheduled to start in the next 15 s
    (the delayed delivery runs triggered by the last stage openings)."""
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
    soon = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
        next_scheduled_start_time=FlowRunFilterNextScheduledStartTime(
            before_=utcnow() + timedelta(seconds=15)))
    while client.count_flow_runs(flow_run_filter=busy) or \
            client.count_flow_runs(flow_run_filter=soon):
        time.sleep(1)


def count_waiting(client: Any, run_ids: list[Any]) -> int:
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        FlowRunFilterState,
        FlowRunFilterStateName,
    )

    waiting = 0
    for start in range(0, len(run_ids), 200):
        waiting += client.count_flow_runs(flow_run_filter=FlowRunFilter(
            id=FlowRunFilterId(any_=run_ids[start:start + 200]),
            state=FlowRunFilterState(name=FlowRunFilterStateName(any_=["Suspended"]))))
    return waiting


def waiting(args: argparse.Namespace) -> None:
    from prefect.client.orchestration import get_client

    from dueprocess.stack.processes import (
        local_prefect_server,
        prefect_environment,
        served_deployments,
    )

    data_dir = Path(tempfile.mkdtemp(prefix="dueprocess-capacity-")) / "data"
    marker = f"DUEPROCESS_DATA_DIR={data_dir}"
    os.environ.update({"DUEPROCESS_DATA_DIR": str(data_dir), **QUIET,
                       "DUEPROCESS_DATABASE_URL": f"sqlite:///{data_dir / 'cases.db'}"})
    with local_prefect_server(data_dir) as api_url, served_deployments(data_dir, api_url):
        os.environ.update(prefect_environment(data_dir, api_url))
        from prefect.settings import PREFECT_API_URL, temporary_settings

        from bench._stack import DEMO_CASE
        from dueprocess.composition.journal import wire
        from dueprocess.db import migrate, session_scope
        from dueprocess.orchestration.case_runs import start_case_run
        from dueprocess.services.cases import open_case, read_case_file

        wire()  # before this process's first write (each flow run wires its own)
        migrate()
        idle = sum(p[2] for p in processes(marker))
        watch = MemoryWatch(marker)
        started = time.perf_counter()
        run_ids: list[Any] = []
        with temporary_settings({PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
            request = read_case_file(DEMO_CASE)
            while len(run_ids) < args.cases:
                batch = []
                for _ in range(min(args.batch, args.cases - len(run_ids))):
                    with session_scope() as session:
                        case_id = open_case(session, request=request).id
                    batch.append(start_case_run(case_id))
                run_ids += batch
                batch_deadline = time.monotonic() + 600
                while count_waiting(client, batch) < len(batch):
                    if time.monotonic() > batch_deadline:
                        raise RuntimeError(f"a batch of {len(batch)} runs not all suspended "
                                           "after 600 s")
                    time.sleep(1)
                if len(run_ids) % (args.batch * 4) == 0 or len(run_ids) == args.cases:
                    now = processes(marker)
                    print(f"  {len(run_ids)} cases waiting at their first gate "
                          f"({time.perf_counter() - started:.0f} s); stack RSS "
                          f"{sum(p[2] for p in now) / 2**20:.0f} MiB, flow processes alive "
                          f"{sum(1 for p in now if p[3])}", flush=True)
            elapsed = time.perf_counter() - started
            wait_quiet(client)
            assert count_waiting(client, run_ids) == len(run_ids)
            # A suspended run's process exits once it has sent its last logs and events.
            wanted, exit_started = {str(r) for r in run_ids}, time.perf_counter()
            while held_by(processes(marker), wanted) and time.perf_counter() - exit_started < 120:
                time.sleep(1)
            exit_wait = time.perf_counter() - exit_started
            found = processes(marker)
        watch.stop.set()
    held = held_by(found, {str(r) for r in run_ids})
    others = [p for p in found if p[3] is not None and p not in held]
    print(machine())
    print(f"{args.cases} cases waiting at a gate on the embedded default (SQLite Prefect "
          f"server + served deployments), started in batches of {args.batch}")
    print(f"  all waiting after {elapsed:.0f} s ({args.cases / elapsed * 60:.0f} cases/min "
          f"brought to their first gate)")
    print(f"  processes held by the {args.cases} waiting cases' runs: {len(held)} (target 0), "
          f"{exit_wait:.0f} s after the last one was suspended; other flow-run processes "
          f"alive: {len(others)}")
    print(f"  processes of the stack: {len(found)}: " + ", ".join(
        sorted({p[1].split()[2] if len(p[1].split()) > 2 else p[1] for p in found})))
    print(f"  memory of the stack (RSS): idle {idle / 2**20:.0f} MiB, with "
          f"{args.cases} waiting {sum(p[2] for p in found) / 2**20:.0f} MiB, "
          f"peak while starting {watch.peak / 2**20:.0f} MiB")


def wait_final(run_id: Any, *, timeout: float) -> None:
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            state = client.read_flow_run(run_id).state
            if state is not None and state.is_final():
                if not state.is_completed():
                    raise RuntimeError(f"flow run {run_id} ended {state.name}: {state.message}")
                return
            time.sleep(0.5)
    raise RuntimeError(f"flow run {run_id} not finished after {timeout:.0f} s")


def flow_processes(worker_logs: list[Path]) -> Counter[str]:
    """Flow-run processes the workers started, by flow: a suspended run resumed is a new
    process, so this counts starts, not runs."""
    started = re.compile(r"Beginning flow run .* for flow '([^']+)'")
    return Counter(match.group(1) for log in worker_logs
                   for match in started.finditer(log.read_text(errors="replace")))


def decisions(args: argparse.Namespace) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from tests.scaleout.harness import pointed_at, scale_out, wait_for_workers

    work_dir = Path(tempfile.mkdtemp(prefix="dueprocess-capacity-scaleout-"))
    marker = f"DUEPROCESS_DATA_DIR={work_dir / 'data'}"
    # This process records too, and signs tree heads after decisions: with the stack's key
    # and published heads, not those of whatever directory it was started in.
    os.environ["DUEPROCESS_DATA_DIR"] = str(work_dir / "data")
    from dueprocess.composition.journal import wire

    wire()  # before this process's first write (each flow run wires its own)
    with scale_out(work_dir, workers=2, worker_env=QUIET) as stack, \
            pointed_at(stack.cases_url, stack.api_urls[0]):
        wait_for_workers(stack)
        from bench._stack import DEMO_CASE, VALID_STEPS, advance_to_step
        from dueprocess.db import session_scope
        from dueprocess.orchestration.case_runs import (
            resume_after_recording,
            start_case_run,
            wait_for_gate,
        )
        from dueprocess.services.case_view import case_view
        from dueprocess.services.cases import open_case, read_case_file
        from dueprocess.services.recording import record_evidence

        def drive(case_id: str) -> None:
            with temporary_settings({PREFECT_API_URL: stack.api_urls[0]}):
                run_id = start_case_run(case_id)
                # Its participation stage (and comment window) opens with the run's first pass.
                if wait_for_gate(case_id, timeout=600) is None:
                    raise RuntimeError(f"case {case_id} never reached its first gate")
                for stage, by, evidence in VALID_STEPS:
                    advance_to_step(case_id, stage)  # the step's day on the case clock
                    item = record_evidence(case_id=case_id, stage_key=stage, recorded_by=by,
                                           evidence=evidence, channel="bench", token=token_for(by))
                    # (resume_with_input retries a resume sent before the run stored
                    # its input schema)
                    resume_after_recording(item, timeout=600)
                # The last recording closes the case and resumes the run (since f358e36;
                # before, the resume-case trigger woke it 5 s later). Counted when the run
                # has ended.
                wait_final(run_id, timeout=600)

        request = read_case_file(DEMO_CASE)
        with session_scope() as session:
            case_ids = [open_case(session, request=request).id for _ in range(args.cases)]
        idle = sum(p[2] for p in processes(marker))
        watch = MemoryWatch(marker)
        started = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            context = contextvars.copy_context()
            list(pool.map(lambda c: context.copy().run(drive, c), case_ids))
        elapsed = time.perf_counter() - started
        watch.stop.set()
        closed = sum(case_view(c).case.status.value == "closed" for c in case_ids)
        worker_logs = [w.log_path for w in stack.workers]
    print(machine())
    print(f"{args.cases} cases driven to their decision on scale-out (2 Prefect API servers "
          f"on PostgreSQL + Redis, cases on PostgreSQL, 2 process workers, 1 s polling), "
          f"{args.concurrency} at a time")
    print(f"  {closed}/{args.cases} closed in {elapsed:.0f} s: "
          f"{closed / elapsed * 3600:.0f} cases per hour "
          f"({closed * len(VALID_STEPS) / elapsed:.2f} transitions/s)")
    starts = flow_processes(worker_logs)
    transitions = args.cases * len(VALID_STEPS)
    print(f"  flow-run processes the workers started: {sum(starts.values())} for "
          f"{transitions} transitions (" + ", ".join(
              f"{flow} {count}, {count / transitions:.2f} per transition"
              for flow, count in starts.most_common()) + ")")
    print(f"  memory of the stack (RSS of the API servers, workers and flow-run processes; "
          f"PostgreSQL and Redis not counted): idle {idle / 2**20:.0f} MiB, "
          f"peak {watch.peak / 2**20:.0f} MiB")


def main() -> None:
    def stop(signum: int, frame: object) -> None:  # unwind, so the stack is stopped
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parts = parser.add_subparsers(dest="part", required=True)
    wait = parts.add_parser("waiting")
    wait.add_argument("--cases", type=int, default=1000)
    wait.add_argument("--batch", type=int, default=25)
    decide = parts.add_parser("decisions")
    decide.add_argument("--cases", type=int, default=200)
    decide.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    {"waiting": waiting, "decisions": decisions}[args.part](args)


if __name__ == "__main__":
    main()
