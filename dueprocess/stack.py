"""Start the embedded default stack: a local Prefect server and the served deployments."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dueprocess.errors import DueProcessError
from dueprocess.settings import get_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prefect_environment(data_dir: Path, api_url: str | None = None) -> dict[str, str]:
    """Environment for Prefect processes of the embedded default, kept under data_dir."""
    home = data_dir / "prefect"
    env = {
        "PREFECT_HOME": str(home),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "DUEPROCESS_DATA_DIR": str(data_dir),
    }
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def wait_until_healthy(api_url: str, *, timeout: float, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DueProcessError(f"Prefect server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise DueProcessError(f"Prefect server at {api_url} not healthy after {timeout:.0f} s")


def stop_process(process: subprocess.Popen[bytes], *, grace: float = 15) -> None:
    """SIGTERM the process group, then SIGKILL what is left (Prefect workers and servers
    can need more than one signal)."""
    if process.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace if sig is not signal.SIGKILL else 5)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def local_prefect_server(data_dir: Path, *, port: int | None = None) -> Iterator[str]:
    """A `prefect server start` on 127.0.0.1 with its SQLite database under data_dir."""
    port = port or free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    (data_dir / "prefect").mkdir(parents=True, exist_ok=True)
    log = (data_dir / "prefect-server.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
         "--port", str(port)],
        env={**os.environ, **prefect_environment(data_dir)}, stdout=log, stderr=log,
        start_new_session=True,
    )
    try:
        wait_until_healthy(api_url, timeout=90, process=process)
        yield api_url
    finally:
        stop_process(process)
        log.close()


@contextmanager
def served_deployments(data_dir: Path, api_url: str) -> Iterator[subprocess.Popen[bytes]]:
    """`dueprocess serve` in a child process, pointed at api_url."""
    log = (data_dir / "runner.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "deployments.serve"],
        env={**os.environ, **prefect_environment(data_dir, api_url)}, stdout=log, stderr=log,
        start_new_session=True,
    )
    try:
        wait_for_deployment(get_settings().deployment_name, api_url, process=process)
        yield process
    finally:
        stop_process(process)
        log.close()


def wait_for_deployment(
    name: str, api_url: str, *, process: subprocess.Popen[bytes], timeout: float = 120
) -> None:
    """Block until the runner has registered the deployment."""
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.exceptions import ObjectNotFound

    deadline = time.monotonic() + timeout
    with SyncPrefectClient(api_url) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise DueProcessError(f"the runner exited with code {process.returncode}")
            try:
                client.read_deployment_by_name(name)
                return
            except ObjectNotFound:
                time.sleep(0.25)
    raise DueProcessError(f"deployment {name} not registered after {timeout:.0f} s")
