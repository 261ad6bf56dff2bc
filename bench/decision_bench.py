"""Benchmark: drive decision cases through every stage, against bare Prefect pause/resume.

Both arms run on one local Prefect server (the embedded default: SQLite) with the same
poll interval. For each transition the scripted reviewer starts a clock, records its
evidence and resumes the run (ours), or just resumes it (bare), and stops the clock when
the run is waiting at its next gate or has finished.

    python bench/decision_bench.py [--cases 50] [--concurrency 5] [--poll 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=5)
    parser.add_argument("--poll", type=int, default=1, help="pause poll interval, seconds")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="dueprocess-bench-"))
    os.environ.update({"DUEPROCESS_DATA_DIR": str(data_dir), "DUEPROCESS_WAIT_MODE": "pause",
                       "DUEPROCESS_PAUSE_POLL_SECONDS": str(args.poll)})
    from dueprocess.stack import local_prefect_server, prefect_environment

    with local_prefect_server(data_dir) as api_url:
        os.environ.update(prefect_environment(data_dir, api_url))
        run(args, api_url)


def run(args: argparse.Namespace, api_url: str) -> None:
    from prefect import flow, pause_flow_run
    from prefect.client.orchestration import get_client
    from prefect.context import get_run_context
    from prefect.input import RunInput
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from dueprocess.cases import open_case, read_case_file
    from dueprocess.db import migrate, session_scope
    from dueprocess.prefect_link import resume_after_recording
    from dueprocess.recording import record_evidence
    from dueprocess.waits import latest_wait
    from flows.major_decision import major_decision
    from tests.conftest import DEMO_CASE
    from tests.support import VALID_STEPS

    migrate()
    transitions = len(VALID_STEPS)
    bare_runs: dict[str, UUID] = {}

    class Go(RunInput):
        note: str

    @flow(name="bare-pause-resume")
    def bare(label: str, pauses: int) -> None:
        bare_runs[label] = get_run_context().flow_run.id  # type: ignore[union-attr]
        for index in range(pauses):
            pause_flow_run(wait_for_input=Go, key=f"k{index}", poll_interval=args.poll,
                           timeout=600)

    def wait_state(run_id: Callable[[], UUID | None], pause_key: str | None) -> None:
        """Until the run is paused at `pause_key` (or finished, when None)."""
        with get_client(sync_client=True) as client:
            while True:
                current = run_id()
                if current is not None:
                    state = client.read_flow_run(current).state
                    if state is not None and (
                        (pause_key is None and state.is_final())
                        or (state.is_paused() and state.state_details.pause_key == pause_key)
                    ):
                        return
                time.sleep(0.02)

    def drive_ours(index: int) -> list[float]:
        with session_scope() as session:
            case_id = open_case(session, request=read_case_file(DEMO_CASE)).id

        def run_id() -> UUID | None:
            with session_scope() as session:
                wait = latest_wait(session, case_id)
            return UUID(wait.flow_run_id) if wait else None

        thread = threading.Thread(target=major_decision, args=(case_id,))
        thread.start()
        wait_state(run_id, "evidence-1")
        latencies = []
        for step, (stage, by, evidence) in enumerate(VALID_STEPS, start=1):
            started = time.perf_counter()
            item = record_evidence(case_id=case_id, stage_key=stage, recorded_by=by,
                                   evidence=evidence, channel="bench")
            resume_after_recording(item, timeout=60)
            wait_state(run_id, f"evidence-{step + 1}" if step < transitions else None)
            latencies.append(time.perf_counter() - started)
        thread.join()
        return latencies

    def drive_bare(index: int) -> list[float]:
        label = f"bare-{index}"
        thread = threading.Thread(target=bare, args=(label, transitions))
        thread.start()

        def run_id() -> UUID | None:
            return bare_runs.get(label)

        wait_state(run_id, "k0")
        latencies = []
        with get_client(sync_client=True) as client:
            for step in range(transitions):
                started = time.perf_counter()
                current = run_id()
                assert current is not None
                client.resume_flow_run(current, run_input={"note": "go"})
                wait_state(run_id, f"k{step + 1}" if step + 1 < transitions else None)
                latencies.append(time.perf_counter() - started)
        thread.join()
        return latencies

    def arm(drive: Callable[[int], list[float]]) -> tuple[list[float], float]:
        started = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            results = list(pool.map(drive, range(args.cases)))
        return [x for r in results for x in r], time.perf_counter() - started

    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        bare_latencies, bare_wall = arm(drive_bare)
        ours, ours_wall = arm(drive_ours)

    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}")
    print(f"{args.cases} cases x {transitions} transitions, concurrency {args.concurrency}, "
          f"pause poll {args.poll} s, Prefect server on SQLite ({api_url})")
    print(f"{'':14}{'p50 s':>9}{'p95 s':>9}{'mean s':>9}{'wall s':>9}")
    for name, values, wall in (("bare Prefect", bare_latencies, bare_wall),
                               ("dueprocess", ours, ours_wall)):
        print(f"{name:14}{percentile(values, 0.5):9.3f}{percentile(values, 0.95):9.3f}"
              f"{statistics.mean(values):9.3f}{wall:9.1f}")
    print(f"ratio dueprocess / bare: p50 "
          f"{percentile(ours, 0.5) / percentile(bare_latencies, 0.5):.2f}, p95 "
          f"{percentile(ours, 0.95) / percentile(bare_latencies, 0.95):.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()
