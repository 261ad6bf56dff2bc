"""The stack's record and `dueprocess down`: only the stack's own processes are stopped,
a pid the kernel has given to another program is left alone, a port's holder is named,
children die with `up`, and a signal during start-up starts nothing more."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dueprocess.errors import DueProcessError
from dueprocess.stack.processes import free_port
from dueprocess.stack.record import (
    Member,
    StackRecord,
    check_port_free,
    read_record,
    socket_owner,
    start_time,
    write_record,
)
from dueprocess.stack.up import own_api
from tests.support import startups

CLI = [sys.executable, "-c", "from dueprocess.commands.app import main; main()"]
SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def cli(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess, its output unwrapped (the console wraps long lines)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DUEPROCESS_"))}
    result = subprocess.run([*CLI, *args], capture_output=True, text=True,
                            timeout=startups(20),
                            env={**base, "DUEPROCESS_DATA_DIR": str(data_dir),
                                 "PREFECT_HOME": str(data_dir / "prefect"), **env})
    result.stdout, result.stderr = (" ".join(out.split()) for out in (result.stdout,
                                                                       result.stderr))
    return result


@pytest.fixture
def sleepers() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.kill()
        process.wait()


def sleeper(started: list[subprocess.Popen[bytes]], **env: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(SLEEPER, start_new_session=True, env={**os.environ, **env})
    started.append(process)
    return process


def gone_up() -> Member:
    """The record of an `up` that was killed: a process that has exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    member = Member.of("up", process.pid)
    process.wait()
    return member


def test_a_member_is_its_pid_start_time_and_command_line() -> None:
    me = Member.of("me", os.getpid())
    assert me.alive() and me.started == start_time(os.getpid())
    assert not Member("me", os.getpid(), (me.started or 0) + 1, me.cmdline).alive()
    assert not Member("me", os.getpid(), me.started, "another program").alive()
    assert not gone_up().alive()


def test_down_stops_what_a_killed_up_left_and_nothing_else(
        tmp_path: Path, sleepers: list[subprocess.Popen[bytes]]) -> None:
    stack_id = uuid.uuid4().hex
    server = sleeper(sleepers, DUEPROCESS_STACK_ID=stack_id)
    escaped = sleeper(sleepers, DUEPROCESS_STACK_ID=stack_id)  # a flow run in its own session
    stranger = sleeper(sleepers)  # has the pid a recorded runner had, but started later
    time.sleep(0.05)
    runner = Member.of("runner", stranger.pid)
    record = StackRecord(stack_id, gone_up(), [
        Member.of("prefect-server", server.pid),
        Member(runner.name, runner.pid, (runner.started or 0) - 1, runner.cmdline)])
    tmp_path.mkdir(exist_ok=True)
    write_record(tmp_path, record)
    assert (tmp_path / "stack.json").stat().st_mode & 0o777 == 0o600

    refused = cli(tmp_path, "up", "--no-portal")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"prefect-server pid {server.pid}" in refused.stderr
    assert str(escaped.pid) in refused.stderr and "dueprocess down" in refused.stderr
    assert str(stranger.pid) not in refused.stderr

    down = cli(tmp_path, "down")
    assert down.returncode == 0, down.stderr
    assert f"pid {stranger.pid} is no longer the stack's runner: left alone" in down.stdout
    assert server.wait(timeout=startups(5)) == -signal.SIGTERM
    assert escaped.wait(timeout=startups(5)) == -signal.SIGTERM
    assert stranger.poll() is None, "a process that is not the stack's was signalled"
    assert read_record(tmp_path) is None
    again = cli(tmp_path, "down")
    assert again.returncode == 0 and "nothing to stop" in again.stdout


def test_a_record_of_processes_all_gone_is_cleared_by_up(tmp_path: Path) -> None:
    write_record(tmp_path, StackRecord(uuid.uuid4().hex, gone_up(), []))
    result = cli(tmp_path, "up", "--no-portal", DUEPROCESS_DATABASE_URL="not a url")
    assert result.returncode == 2 and "DUEPROCESS_DATABASE_URL" in result.stderr
    assert json.loads((tmp_path / "stack.json").read_text())  # checked before the lock
    # the database check passes with SQLite; the port check then fails before starting
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli(tmp_path, "up", "--no-portal", DUEPROCESS_UI_PORT=str(port))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "did not stop cleanly; none of its processes is left" in result.stdout
    assert f"port {port} is held by pid {os.getpid()}" in result.stderr


def test_a_taken_port_names_its_holder() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert socket_owner(port, listening=True) == os.getpid()
        with pytest.raises(DueProcessError, match=f"DUEPROCESS_UI_PORT: .*port {port} is "
                                                  f"held by pid {os.getpid()}"):
            check_port_free("127.0.0.1", port, "DUEPROCESS_UI_PORT")
    assert socket_owner(port, listening=True) is None


def test_prefect_api_url_of_the_stack_up_starts_is_its_own() -> None:
    assert own_api("http://127.0.0.1:4200/api", "127.0.0.1", 4200)
    assert own_api("http://localhost:4200/api/", "127.0.0.1", 4200)
    assert not own_api("http://127.0.0.1:4201/api", "127.0.0.1", 4200)
    assert not own_api("http://prefect.example:4200/api", "127.0.0.1", 4200)


PARENT = """
import os, subprocess, sys, time
from dueprocess.stack.processes import start_child
from pathlib import Path
child = start_child("sleeper", [sys.executable, "-c", "import time; time.sleep(600)"],
                    env=dict(os.environ), log_path=Path(sys.argv[1]))
print(child.process.pid, flush=True)
time.sleep(600)
"""


def test_children_die_with_a_killed_parent(tmp_path: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(tmp_path / "log")],
                              stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert start_time(child) is not None
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + startups(2)
    while start_time(child) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert start_time(child) is None, "the child outlived its SIGKILLed parent"


@pytest.mark.slow
def test_sigterm_during_start_up_starts_nothing_more(tmp_path: Path) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DUEPROCESS_"))}
    port = free_port()
    up = subprocess.Popen(
        [*CLI, "up", "--no-portal"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, env={**base, "DUEPROCESS_DATA_DIR": str(tmp_path),
                        "DUEPROCESS_UI_PORT": str(port),
                        "PREFECT_HOME": str(tmp_path / "prefect")})
    deadline = time.monotonic() + startups(20)
    record = None
    while time.monotonic() < deadline:  # the moment the Prefect server has been started
        record = read_record(tmp_path) if (tmp_path / "stack.json").exists() else None
        if record is not None and record.children:
            break
        time.sleep(0.02)
    assert record is not None and [m.name for m in record.children] == ["prefect-server"]
    up.send_signal(signal.SIGTERM)
    output, _ = up.communicate(timeout=startups(20))
    assert up.returncode == 0, output
    assert "SIGTERM received" in output and "no process of the stack is left" in output
    assert not (tmp_path / "logs" / "runner.log").exists(), "the runner started after SIGTERM"
    assert not any(m.alive() for m in record.children)
    assert read_record(tmp_path) is None
