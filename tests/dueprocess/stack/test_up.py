"""`dueprocess up` refuses bad settings at start, naming the setting, before it starts
anything. (Starting, stopping and restarting the stack: tests/faults.)"""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dueprocess.stack.processes import free_port

CLI = [sys.executable, "-c", "from dueprocess.commands.app import main; main()"]


def up(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DUEPROCESS_"))}
    started = time.monotonic()
    result = subprocess.run(
        [*CLI, "up", "--no-portal"], capture_output=True, text=True, timeout=120,
        env={**base, "DUEPROCESS_DATA_DIR": str(tmp_path / "data"),
             "PREFECT_HOME": str(tmp_path / "prefect"), **env},
    )
    assert time.monotonic() - started < 60, "a bad setting must fail fast"
    return result


def test_an_unreachable_prefect_server_is_named(tmp_path: Path) -> None:
    result = up(tmp_path, PREFECT_API_URL=f"http://127.0.0.1:{free_port()}/api")
    assert result.returncode == 2
    assert "PREFECT_API_URL: cannot reach the Prefect server" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_case_database_is_named(tmp_path: Path) -> None:
    result = up(tmp_path, DUEPROCESS_DATABASE_URL=(
        f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/cases"))
    assert result.returncode == 2
    assert "DUEPROCESS_DATABASE_URL: cannot reach the case database" in result.stderr
    result = up(tmp_path, DUEPROCESS_DATABASE_URL="not a url")
    assert result.returncode == 2 and "DUEPROCESS_DATABASE_URL" in result.stderr


def test_a_taken_port_and_a_bad_value_are_named(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = up(tmp_path, DUEPROCESS_UI_PORT=str(taken.getsockname()[1]))
    assert result.returncode == 2
    assert "DUEPROCESS_UI_PORT: cannot listen on" in result.stderr
    result = up(tmp_path, DUEPROCESS_UI_PORT="http")
    assert result.returncode == 2 and "DUEPROCESS_UI_PORT" in result.stderr
    result = up(tmp_path, DUEPROCESS_STAGE_DEADLINE_DAYS='{"legality_review": -1}')
    assert result.returncode == 2 and "DUEPROCESS_STAGE_DEADLINE_DAYS" in result.stderr


def test_one_stack_per_data_directory(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    with (tmp_path / "data" / "up.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running `up` holds it
        result = up(tmp_path)
    assert result.returncode == 2
    assert "DUEPROCESS_DATA_DIR: another `dueprocess up` is running" in result.stderr


@pytest.mark.parametrize("args", [["recover"], ["recover", "dp-2026-000000"]])
def test_recover_needs_a_prefect_server(tmp_path: Path, args: list[str]) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DUEPROCESS_"))}
    result = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120,
                            env={**base, "DUEPROCESS_DATA_DIR": str(tmp_path / "data"),
                                 "PREFECT_HOME": str(tmp_path / "prefect")})
    assert result.returncode == 2 and "PREFECT_API_URL" in result.stderr
