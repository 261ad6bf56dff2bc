"""One Prefect test server for the session, and the served deployment running against it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import UUID

import pytest

from dueprocess.stack.processes import prefect_environment, stop_process, wait_for_deployments
from dueprocess.stack.startup import SERVER_FACTOR, reference_seconds
from tests.support import VALID_STEPS, final_state

pytestmark = pytest.mark.flow


@pytest.fixture(scope="session")
def prefect_server(case_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    data_dir = Path(os.environ["DUEPROCESS_DATA_DIR"])
    # The server's start-up time, like `up`'s, is derived from a measured reference.
    startup_timeout = int(max(90, SERVER_FACTOR * reference_seconds()))
    with prefect_test_harness(server_startup_timeout=startup_timeout):
        api_url = PREFECT_API_URL.value()
        log = (tmp_path_factory.mktemp("runner") / "runner.log").open("ab")
        runner = subprocess.Popen(
            [sys.executable, "-m", "deployments.serve"],
            env={**os.environ, **prefect_environment(data_dir, api_url),
                 "PREFECT_LOGGING_LEVEL": "INFO"},
            stdout=log, stderr=log, start_new_session=True,
        )
        try:
            from deployments.definitions import specs

            # Every served deployment, as `up` waits: a test may run any of them first.
            names = [f"{spec.load_flow().name}/{spec.name}" for spec in specs()]
            wait_for_deployments(names, api_url, process=runner)
            yield api_url
        finally:
            stop_process(runner)
            log.close()


def gate(case_id: str) -> tuple[str, str]:
    from dueprocess.orchestration.case_runs import wait_for_gate

    found = wait_for_gate(case_id, timeout=max(90, 30 * reference_seconds()))
    assert found is not None, f"case {case_id} never reached a gate"
    return found


@pytest.fixture
def started_case(prefect_server: str, open_demo_case: Callable[[], str]) -> tuple[str, UUID]:
    from dueprocess.orchestration.case_runs import start_case_run

    case_id = open_demo_case()
    run_id = start_case_run(case_id)
    gate(case_id)
    return case_id, run_id


__all__ = ["VALID_STEPS", "final_state", "gate"]
