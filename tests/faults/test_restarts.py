"""Restarts under a running case: the Prefect server, PostgreSQL, the whole stack.

- The Prefect server is killed mid-case and started again on its database; evidence
  recorded while it is away is stored, and the run wakes up once it is back.
- The case database (a PostgreSQL server of the test's own) is stopped between stages:
  recording fails with an error naming the setting, and works again after the restart.
- The whole `dueprocess up` stack is SIGKILLed at once, then started again: it marks
  the runs that were active as crashed, restarts them, and the case completes.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from dueprocess.stack.processes import (
    free_port,
    prefect_environment,
    prefect_server_command,
    start_child,
    stop_process,
    wait_until_healthy,
)
from tests.faults.harness import (
    OwnPostgres,
    UpProcess,
    assert_completed_once,
    cli_record,
    open_case,
    record,
    stage_completed,
    wait_until,
)
from tests.scaleout.harness import pointed_at
from tests.support import RUNS_ONCE, startups

pytestmark = [pytest.mark.slow, pytest.mark.timeout(0), RUNS_ONCE]
QUICK = {"DUEPROCESS_WATCHDOG_INTERVAL_SECONDS": "20"}


def test_prefect_server_restarted_mid_case(tmp_path: Path) -> None:
    server_dir = tmp_path / "server"
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"

    def start_server() -> object:
        child = start_child("prefect-server", prefect_server_command("127.0.0.1", port),
                            env={**os.environ, **prefect_environment(server_dir)},
                            log_path=server_dir / "server.log")
        wait_until_healthy(api_url, process=child.process)  # deadline from a measured start-up
        return child

    server = start_server()
    stack = UpProcess(tmp_path / "data", extra_env={**QUICK, "PREFECT_API_URL": api_url})
    stack.start()
    try:
        with pointed_at(stack.database_url, api_url):
            case_id = open_case(stack)
            record(case_id, 0)
            stop_process(server.process, grace=0)  # type: ignore[attr-defined]
            # While the server is away: stored and advanced, the resume has to wait.
            for index in (1, 2, 3):
                away = cli_record(stack, case_id, index, tmp_path)
                assert away.returncode == 0, away.stderr
                assert "the Prefect server does not answer" in away.stdout, away.stdout
            assert stage_completed(case_id, "expert_review")
            server = start_server()
            assert stack.process is not None and stack.process.poll() is None, stack.output()
            for index in range(4, 8):
                record(case_id, index)
            assert_completed_once(case_id)
    finally:
        assert stack.stop(signal.SIGINT) == 0, stack.output()  # Ctrl-C
        stop_process(server.process)  # type: ignore[attr-defined]
    assert "no process of the stack is left" in stack.output()
    assert not stack.leftovers()


@pytest.fixture
def postgres() -> Iterator[OwnPostgres]:
    try:
        server = OwnPostgres()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    server.start()
    server.create_database("cases")
    yield server
    server.destroy()


def test_postgres_stopped_between_stages_then_the_whole_stack_killed(
    tmp_path: Path, postgres: OwnPostgres,
) -> None:
    stack = UpProcess(tmp_path / "data", extra_env={
        **QUICK, "DUEPROCESS_DATABASE_URL": postgres.url("cases")})
    stack.start()
    try:
        with pointed_at(stack.database_url, stack.api_url):
            case_id = open_case(stack)
            record(case_id, 0)
            postgres.stop()
            refused = cli_record(stack, case_id, 1, tmp_path)
            assert refused.returncode == 2, (refused.stdout, refused.stderr)
            assert "DUEPROCESS_DATABASE_URL" in refused.stderr, refused.stderr
            status = stack.cli("status", case_id)
            assert "DUEPROCESS_DATABASE_URL" in status.stderr, status.stderr
            postgres.start()
            for index in (1, 2, 3, 4):
                record(case_id, index)
            # Kill everything while the run is busy with the risk assessment's resume.
            killed = stack.kill_everything()
            assert len(killed) >= 3, killed  # up, its server, its runner (and flows)
            stack.start()
            assert "1 case(s) checked" in stack.output(), stack.output()
            wait_until(lambda: stage_completed(case_id, "risk_assessment"), timeout=startups(40),
                       what="risk_assessment after the restart")
            for index in (5, 6, 7):
                record(case_id, index)
            assert_completed_once(case_id)
    finally:
        if stack.process is not None and stack.process.poll() is None:
            assert stack.stop(signal.SIGTERM) == 0, stack.output()
    assert "no process of the stack is left" in stack.output()
    assert not stack.leftovers()
