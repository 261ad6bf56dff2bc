"""Benchmark: drive decision cases through every stage, against bare Prefect pause/resume.

Both arms run on one local Prefect server (the embedded default: SQLite) with the same
poll interval. For each transition the scripted reviewer starts a clock, records its
evidence and resumes the run (ours), or just resumes it (bare), and stops the clock when
the run is waiting at its next gate or has finished.

A flow runs in a driver thread of this process (pause mode keeps it alive). When that
thread dies (the flow raised, e.g. FlowPauseTimeout or a failed gate), the driver waiting
for its run raises the thread's exception at once, and every other driver stops too, so
the benchmark fails with the error instead of hanging until the other runs time out.

Each concurrency level named runs both arms, one after the other, in the same run and on
the same server, so their ratios compare like with like.

    python bench/decision_bench.py [--cases 50] [--concurrency 1 5] [--poll 1]
"""

from __future__ import annotations

import argparse
import faulthandler
import os
import platform
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from uuid import UUID

from dueprocess.demo.credentials import token_for

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# The demo case runs on simulated time, which only a demo or test stack accepts.
os.environ.setdefault("DUEPROCESS_ALLOW_SIMULATED_TIME", "true")


class DriverFailed(RuntimeError):
    """A flow's driver thread died, or another driver failed first."""


REJECTED = {"bare": 0}  # bare resumes refused: input schema not stored yet
ABORT = threading.Event()  # set by the first driver that fails: the others stop waiting


class FlowThread(threading.Thread):
    """Runs one flow call; keeps the exception that ended it, if any."""

    def __init__(self, target: Callable[..., object], *args: object) -> None:
        super().__init__(daemon=True)  # a paused flow must not keep a failed run alive
        self.call = target
        self.call_args = args
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.call(*self.call_args)
        except BaseException as exc:  # handed to the driver waiting for this run
            self.error = exc


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def stop_on_sigterm() -> None:
    """SIGTERM (e.g. `timeout`) unwinds like Ctrl-C, so the local server is stopped."""
    def handler(signum: int, frame: object) -> None:
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def main() -> None:
    stop_on_sigterm()
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # kill -USR1: where it waits
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=50)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--poll", type=int, default=1, help="pause poll interval, seconds")
    parser.add_argument("--check-every", type=float, default=0.1,
                        help="how often a driver reads its run's state, seconds (every "
                        "driver polls the server: 0.02 s saturated it on 2 CPUs)")
    parser.add_argument("--transition-timeout", type=float, default=180,
                        help="fail when a run is not at its next gate after this, seconds")
    parser.add_argument("--pause-timeout", type=float, default=600,
                        help="bare arm's pause timeout, seconds (tiny: check fail-fast)")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="dueprocess-bench-"))
    os.environ.update({"DUEPROCESS_DATA_DIR": str(data_dir), "DUEPROCESS_WAIT_MODE": "pause",
                       "DUEPROCESS_PAUSE_POLL_SECONDS": str(args.poll)})
    from dueprocess.stack.processes import local_prefect_server, prefect_environment

    with local_prefect_server(data_dir) as api_url:
        os.environ.update(prefect_environment(data_dir, api_url))
        run(args, api_url)


def run(args: argparse.Namespace, api_url: str) -> None:
    from prefect import flow, pause_flow_run
    from prefect.client.orchestration import SyncPrefectClient, get_client
    from prefect.context import get_run_context
    from prefect.input import RunInput
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from bench._stack import DEMO_CASE, VALID_STEPS, advance_to_step
    from dueprocess.composition.journal import wire
    from dueprocess.db import migrate, session_scope
    from dueprocess.orchestration.case_runs import resume_after_recording
    from dueprocess.orchestration.resume import REFERENCE_PROOF, resume_with_input
    from dueprocess.services.cases import open_case, read_case_file
    from dueprocess.services.gate_waits import latest_wait
    from dueprocess.services.recording import record_evidence
    from flows.major_decision import major_decision
    from models.evidence import EvidenceItem

    wire()  # before the first write (the flows run in this process too, and wire it again)
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
                           timeout=args.pause_timeout)

    def resume_accepted(client: SyncPrefectClient, run_id: UUID) -> None:
        """Resume a bare run. A run is Paused a moment before its flow has stored the input
        schema; a resume in between is rejected ("Run input schema not found"): retry."""
        for _ in range(200):
            response = client.resume_flow_run(run_id, run_input={"note": "go"})
            if response.status.value == "ACCEPT":
                return
            reason = getattr(response.details, "reason", "") or ""
            if "schema not found" not in reason:
                raise DriverFailed(f"run {run_id} not resumed: {reason}")
            REJECTED["bare"] += 1
            time.sleep(0.05)
        raise DriverFailed(f"run {run_id}: input schema never stored")

    def wait_state(run_id: Callable[[], UUID | None], pause_key: str | None,
                   thread: FlowThread) -> None:
        """Until the run is paused at `pause_key` (or finished, when None). Raises at once
        when the flow's thread has died, its run ended elsewhere, or another driver failed."""
        deadline = time.monotonic() + args.transition_timeout
        with get_client(sync_client=True) as client:
            while True:
                if time.monotonic() > deadline:
                    ABORT.set()
                    raise DriverFailed(f"run {run_id()} not at {pause_key or 'its end'} after "
                                       f"{args.transition_timeout:.0f} s")
                if ABORT.is_set():
                    raise DriverFailed("stopped: another driver failed")
                alive = thread.is_alive()  # before reading the state: no race with its end
                current = run_id()
                state = client.read_flow_run(current).state if current is not None else None
                if state is not None and (
                    (pause_key is None and state.is_final())
                    or (state.is_paused() and state.state_details.pause_key == pause_key)
                ):
                    return
                if not alive or (state is not None and state.is_final()):
                    thread.join(timeout=30)
                    ABORT.set()
                    where = f"run {current} in state {state.name if state else None}"
                    if thread.error is not None:
                        raise DriverFailed(f"flow thread died ({where}, waiting for "
                                           f"{pause_key or 'the end'})") from thread.error
                    raise DriverFailed(f"{where} before {pause_key or 'the end'}")
                time.sleep(args.check_every)

    def finish_closed_case(item: EvidenceItem) -> None:
        """The last evidence closes the case as soon as it is committed (prompt advance),
        which marks the last wait consumed, so `resume_after_recording` finds no gate and
        does not resume the run paused there: in pause mode it would wait for its pause
        timeout (1 h). Resume it as `resume_after_recording` would (fixed in the product by
        f358e36, which resumes it; then this is not called)."""
        with session_scope() as session:
            wait = latest_wait(session, item.case_id)
        assert wait is not None
        with get_client(sync_client=True) as client:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                state = client.read_flow_run(UUID(wait.flow_run_id)).state
                if state is not None and state.is_final():
                    return
                if state is not None and state.is_paused() and \
                        state.state_details.pause_key == wait.key:
                    resume_with_input(UUID(wait.flow_run_id), run_input={
                        "recorded_by": item.recorded_by, "recorded_evidence_id": item.id,
                        "proof": REFERENCE_PROOF})
                    return
                time.sleep(args.check_every)

    def drive_ours(index: int) -> list[float]:
        with session_scope() as session:
            case_id = open_case(session, request=read_case_file(DEMO_CASE)).id

        def run_id() -> UUID | None:
            with session_scope() as session:
                wait = latest_wait(session, case_id)
            return UUID(wait.flow_run_id) if wait else None

        thread = FlowThread(major_decision, case_id)
        thread.start()
        wait_state(run_id, "evidence-1", thread)
        latencies = []
        for step, (stage, by, evidence) in enumerate(VALID_STEPS, start=1):
            advance_to_step(case_id, stage)  # the step's day on the case clock
            started = time.perf_counter()
            item = record_evidence(case_id=case_id, stage_key=stage, recorded_by=by,
                                   evidence=evidence, channel="bench", token=token_for(by))
            # (resume_with_input retries a resume sent before the schema was stored)
            outcome = resume_after_recording(item, timeout=60)
            if "could not be resumed" in outcome:
                raise DriverFailed(outcome)
            if step == transitions and not outcome.startswith("resumed"):
                finish_closed_case(item)
            wait_state(run_id, f"evidence-{step + 1}" if step < transitions else None, thread)
            latencies.append(time.perf_counter() - started)
        thread.join()
        if thread.error is not None:
            raise DriverFailed("flow thread failed after its last gate") from thread.error
        return latencies

    def drive_bare(index: int) -> list[float]:
        label = f"bare-{index}"
        thread = FlowThread(bare, label, transitions)
        thread.start()

        def run_id() -> UUID | None:
            return bare_runs.get(label)

        wait_state(run_id, "k0", thread)
        latencies = []
        with get_client(sync_client=True) as client:
            for step in range(transitions):
                started = time.perf_counter()
                current = run_id()
                assert current is not None
                resume_accepted(client, current)
                wait_state(run_id, f"k{step + 1}" if step + 1 < transitions else None, thread)
                latencies.append(time.perf_counter() - started)
        thread.join()
        if thread.error is not None:
            raise DriverFailed("flow thread failed after its last gate") from thread.error
        return latencies

    def arm(drive: Callable[[int], list[float]], concurrency: int) -> tuple[list[float], float]:
        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            futures = [pool.submit(drive, index) for index in range(args.cases)]
            try:
                results = [future.result() for future in futures]
            except BaseException:
                ABORT.set()  # the other drivers stop at their next check
                for future in futures:
                    future.cancel()
                raise
        return [x for r in results for x in r], time.perf_counter() - started

    results = []
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        for concurrency in args.concurrency:
            bare_runs.clear()  # labels repeat from level to level
            results.append((concurrency, arm(drive_bare, concurrency),
                            arm(drive_ours, concurrency)))
            print(f"concurrency {concurrency} done", flush=True)

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, load average {load} (at the end)")
    print(f"{args.cases} cases x {transitions} transitions per level, state read every "
          f"{args.check_every} s, pause poll {args.poll} s, Prefect server on SQLite ({api_url})")
    for concurrency, (bare_latencies, bare_wall), (ours, ours_wall) in results:
        print(f"\nconcurrency {concurrency}")
        print(f"{'':14}{'p50 s':>9}{'p95 s':>9}{'mean s':>9}{'wall s':>9}")
        for name, values, wall in (("bare Prefect", bare_latencies, bare_wall),
                                   ("dueprocess", ours, ours_wall)):
            print(f"{name:14}{percentile(values, 0.5):9.3f}{percentile(values, 0.95):9.3f}"
                  f"{statistics.mean(values):9.3f}{wall:9.1f}")
        print("per transition, p50 / p95 s (dueprocess | bare): " + "; ".join(
            f"{n + 1}: {percentile(ours[n::transitions], 0.5):.2f}/"
            f"{percentile(ours[n::transitions], 0.95):.2f} | "
            f"{percentile(bare_latencies[n::transitions], 0.5):.2f}/"
            f"{percentile(bare_latencies[n::transitions], 0.95):.2f}"
            for n in range(transitions)))
        print(f"ratio dueprocess / bare: p50 "
              f"{percentile(ours, 0.5) / percentile(bare_latencies, 0.5):.2f}, p95 "
              f"{percentile(ours, 0.95) / percentile(bare_latencies, 0.95):.2f} "
              f"(target <= 1.3)")
    print(f"bare resumes rejected because the run's input schema was not stored yet (retried "
          f"after 50 ms): {REJECTED['bare']}")


if __name__ == "__main__":
    main()
