"""Back-pressure under load (issue 23): open cases (`DUEPROCESS_SOAK_CASES`: 8 in CI, so
that the suite stays within its time; the issue's 20 by setting it) while the watchdog,
notice and sign-heads schedules run at ten times their default rate, with one busy process
per core.
The runner never holds more flow-run processes than its limit, and every transition (a
case's run reaching its gate after opening, and again after evidence) completes within a
bound derived from the measured start-up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dueprocess.stack.processes import flow_processes
from dueprocess.stack.record import read_record
from tests.faults.harness import UpProcess, record, stage_completed, wait_until
from tests.scaleout.harness import pointed_at
from tests.support import RUNS_ONCE, startups

pytestmark = [pytest.mark.slow, pytest.mark.timeout(0), RUNS_ONCE]

CASES = int(os.environ.get("DUEPROCESS_SOAK_CASES", "8"))
LIMIT = 4
TEN_TIMES = {  # each schedule at ten times its default rate
    "DUEPROCESS_WATCHDOG_INTERVAL_SECONDS": "30",  # 300
    "DUEPROCESS_NOTIFY_DELIVERY_INTERVAL_SECONDS": "3",  # 30
    "DUEPROCESS_MAX_UNSIGNED_SECONDS": "6",  # 60: sign-heads' schedule
}


@pytest.fixture
def busy_cores() -> Iterator[None]:
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
               for _ in range(os.cpu_count() or 1)]
    yield
    for burner in burners:
        burner.kill()
        burner.wait()


class Sampler(threading.Thread):
    """The most flow-run processes the runner held at once, sampled every 0.1 s."""

    def __init__(self, runner_pid: int) -> None:
        super().__init__(daemon=True)
        self.runner_pid, self.most, self.done = runner_pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.most = max(self.most, len(flow_processes(self.runner_pid)))
            time.sleep(0.1)


UNAVAILABLE = 503  # the Prefect server on SQLite, overloaded: try again, as `recover` would


def start_run(case_id: str, *, attempts: int = 5) -> int:
    """Start the case's run; return how many times the server said 503 first."""
    from prefect.exceptions import PrefectHTTPStatusError

    from dueprocess.orchestration.case_runs import start_case_run

    for attempt in range(attempts):
        try:
            start_case_run(case_id)
            return attempt
        except PrefectHTTPStatusError as exc:
            if exc.response.status_code != UNAVAILABLE or attempt == attempts - 1:
                raise
            time.sleep(startups(1) / 10)
    raise AssertionError("unreachable")


def open_and_start(count: int) -> tuple[list[str], int]:
    from dueprocess.services.case_opening import open_case_as
    from dueprocess.services.cases import read_case_file
    from dueprocess.services.progress import advance_case
    from tests.conftest import DEMO_CASE
    from tests.support import register_demo_people, token_for

    register_demo_people()
    cases, refused = [], 0
    for _ in range(count):
        case = open_case_as(request=read_case_file(DEMO_CASE), token=token_for("wang.fang"),
                            channel="cli")
        refused += start_run(case.id)
        advance_case(case_id=case.id)
        cases.append(case.id)
    return cases, refused


def test_open_cases_under_ten_times_the_schedules_and_busy_cores(
        tmp_path: Path, busy_cores: None) -> None:
    from dueprocess.orchestration.case_runs import wait_for_gate

    stack = UpProcess(tmp_path / "data", extra_env={
        **TEN_TIMES, "DUEPROCESS_RUNNER_PROCESS_LIMIT": str(LIMIT)})
    stack.start()
    left = read_record(stack.data_dir)
    assert left is not None
    [runner] = [m for m in left.children if m.name == "runner"]
    sampler = Sampler(runner.pid)
    sampler.start()
    # A transition waits for at most CASES / LIMIT runs ahead of it, each a start-up (10
    # measured CLI start-ups) or two: its own run resumes after the gate's evidence.
    bound = startups(2 * 10 * CASES / LIMIT)
    slowest, refused = 0.0, 0
    try:
        with pointed_at(stack.database_url, stack.api_url):
            started = time.monotonic()
            cases, refused = open_and_start(CASES)
            for case_id in cases:
                assert wait_for_gate(case_id, timeout=bound - (time.monotonic() - started)), \
                    f"{case_id} did not reach its first gate within {bound:.0f} s"
            slowest = time.monotonic() - started
            for case_id in cases[:LIMIT]:
                began = time.monotonic()
                record(case_id, 0)

                def at_next_gate(case: str = case_id) -> bool:
                    return stage_completed(case, "public_participation") and bool(
                        wait_for_gate(case, timeout=1))

                wait_until(at_next_gate, timeout=bound,
                           what=f"{case_id}: the next gate after evidence")
                slowest = max(slowest, time.monotonic() - began)
    finally:
        sampler.done.set()
        sampler.join()
        print(f"\nsoak: at most {sampler.most} flow-run processes (limit {LIMIT}); "
              f"slowest transition {slowest:.1f} s (bound {bound:.0f} s); "
              f"{refused} run start(s) answered 503 and retried")
        assert stack.stop(signal.SIGTERM) == 0, stack.output()
    assert 0 < sampler.most <= LIMIT, f"{sampler.most} flow-run processes at once"
