"""The processes of a dueprocess stack: a local Prefect server, the served deployments,
the public portal; started, checked and stopped leaving nothing behind.

`dueprocess up` (dueprocess.stack.up), the demo and the tests build on these. Every child runs
in its own session (process group), so stopping it reaches the processes it started, and
carries `DUEPROCESS_STACK_ID` in its environment, so a last sweep finds any process that
escaped its group (Prefect's runner can start flow runs in their own sessions).

Prefect reads its settings (PREFECT_API_URL, PREFECT_HOME, …) once, when it is first
imported, and `up` and the demo set them for the server they start: Prefect is imported
in the function that calls it, after that.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from dueprocess.errors import DueProcessError
from dueprocess.settings import get_settings
from dueprocess.stack.lifeline import lifeline_preexec
from dueprocess.stack.startup import (
    FLOOR_SECONDS,
    RUNNER_FACTOR,
    SERVER_FACTOR,
    StartupDeadline,
)

# The Prefect server creates its files (prefect.db) 0600 and directories 0700: its
# database holds the evidence submitted through its forms, and the form codes.
PRIVATE_UMASK = 0o077


def secure_data_dir(data_dir: Path) -> list[Path]:
    """Make what earlier versions left 0644 private: the data directory, Prefect's home and
    the logs 0700, the databases and logs in them 0600 (not the published tree heads)."""
    changed = []
    directories = [data_dir, data_dir / "prefect", data_dir / "logs"]
    files = [path for directory in directories if directory.is_dir()
             for path in directory.iterdir()
             if path.is_file() and not path.is_symlink()
             and (".db" in path.name or path.suffix in {".key", ".log", ".json"})]
    for path, mode in [*((d, 0o700) for d in directories if d.is_dir()),
                       *((f, 0o600) for f in files)]:
        with contextlib.suppress(OSError):
            current = path.stat().st_mode & 0o777
            if current & ~mode:
                path.chmod(current & mode)
                changed.append(path)
    return changed


def private_log(path: Path) -> BinaryIO:
    """A log file to append to, created 0600 in a directory 0700."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab")


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


WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})


def prefect_server_environment(data_dir: Path, host: str, port: int) -> dict[str, str]:
    """`prefect_environment` for a Prefect server on host:port, whose UI talks to this very
    server. Prefect's UI takes its API address from PREFECT_UI_API_URL, else from
    PREFECT_SERVER_API_HOST/PORT (default 127.0.0.1:4200), never from `--port`: without
    these, a UI on another port shows "Can't connect", or another server's data."""
    browser_host = socket.gethostname() if host in WILDCARD_HOSTS else host
    if ":" in browser_host:  # an IPv6 address in a URL
        browser_host = f"[{browser_host}]"
    return {
        **prefect_environment(data_dir),
        "PREFECT_SERVER_API_HOST": host,
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_UI_API_URL": os.environ.get("PREFECT_UI_API_URL")
        or f"http://{browser_host}:{port}/api",
    }


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait_until_healthy(api_url: str, *, process: subprocess.Popen[bytes],
                       timeout: float | None = None) -> float:
    """Block until the Prefect server at api_url answers; return the seconds it took.

    With no `timeout`, the deadline is derived from a reference start-up measured beside
    it (`dueprocess.stack.startup`), so a loaded machine gets the time it needs.
    """
    reference = None if timeout is None else timeout / SERVER_FACTOR
    with StartupDeadline(f"Prefect server at {api_url}", factor=SERVER_FACTOR,
                         floor=min(FLOOR_SECONDS, timeout or FLOOR_SECONDS),
                         reference=reference) as deadline:
        while not deadline.passed():
            if process.poll() is not None:
                raise DueProcessError(f"Prefect server exited with code {process.returncode}")
            if _healthy(api_url):
                return deadline.elapsed()
            time.sleep(0.25)
        raise DueProcessError(deadline.describe())


def process_group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group (Linux /proc)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # it exited while we looked
        if len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(stat.parent.name))
    return members


def stop_process(process: subprocess.Popen[Any], *, grace: float = 15) -> None:
    """Stop a child started in its own session and every process of its group: SIGTERM,
    again SIGTERM (Prefect workers and servers can need two), then SIGKILL.

    The group is stopped, not only the child: `prefect server start` is a parent whose
    server is a child process, and the parent can exit while that child lives on.
    """
    pgid = process.pid

    def alive() -> bool:
        return process.poll() is None or bool(process_group_members(pgid))

    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGTERM, grace),
                      (signal.SIGKILL, 10.0)):
        if not alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        deadline = time.monotonic() + wait
        while alive() and time.monotonic() < deadline:
            time.sleep(0.05)
    if alive():
        raise DueProcessError(f"process group {pgid} still alive after SIGKILL: "
                              f"{process_group_members(pgid)}")


@contextmanager
def local_prefect_server(data_dir: Path, *, port: int | None = None) -> Iterator[str]:
    """A `prefect server start` on 127.0.0.1 with its SQLite database under data_dir."""
    port = port or free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    (data_dir / "prefect").mkdir(mode=0o700, parents=True, exist_ok=True)
    log = private_log(data_dir / "prefect-server.log")
    env = {**os.environ, **prefect_server_environment(data_dir, "127.0.0.1", port)}
    env.pop("PREFECT_API_URL", None)
    process = subprocess.Popen(
        prefect_server_command("127.0.0.1", port), env=env, stdout=log, stderr=log,
        start_new_session=True, umask=PRIVATE_UMASK,
    )
    try:
        wait_until_healthy(api_url, process=process)
        yield api_url
    finally:
        stop_process(process)
        log.close()


@contextmanager
def served_deployments(data_dir: Path, api_url: str) -> Iterator[subprocess.Popen[bytes]]:
    """`dueprocess serve` in a child process, pointed at api_url."""
    log = private_log(data_dir / "runner.log")
    process = subprocess.Popen(
        [sys.executable, "-m", "deployments.serve"],
        env={**os.environ, **prefect_environment(data_dir, api_url)}, stdout=log, stderr=log,
        start_new_session=True,
    )
    try:
        wait_for_deployment(get_settings().deployment_name, api_url, process=process)
        yield process
        # On a normal exit, let flow processes that have finished their run exit first:
        # Prefect's runner marks a run it still tracks as Cancelled when it shuts down,
        # even one that has just completed.
        wait_for_flow_processes(process.pid, timeout=20)
    finally:
        stop_process(process)
        log.close()


def flow_processes(runner_pid: int) -> list[int]:
    """The flow-run processes (`prefect.engine`) a runner has started (Linux /proc; on
    other systems, none are seen)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if parent == runner_pid and b"prefect.engine" in (stat.parent / "cmdline").read_bytes():
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue  # the process exited while we looked
    return found


def wait_for_flow_processes(runner_pid: int, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while flow_processes(runner_pid) and time.monotonic() < deadline:
        time.sleep(0.2)


def wait_for_deployment(
    name: str, api_url: str, *, process: subprocess.Popen[bytes],
    deadline: StartupDeadline | None = None,
) -> None:
    """Block until the runner has registered the deployment (the deadline derived from a
    reference start-up measured beside it, unless one is given)."""
    from prefect.client.orchestration import (  # deferred: Prefect, once PREFECT_* are set
        SyncPrefectClient,
    )
    from prefect.exceptions import ObjectNotFound

    own = deadline is None
    deadline = deadline or StartupDeadline(f"deployment {name}", factor=RUNNER_FACTOR)
    try:
        with SyncPrefectClient(api_url) as client:
            while not deadline.passed():
                if process.poll() is not None:
                    raise DueProcessError(f"the runner exited with code {process.returncode}")
                try:
                    client.read_deployment_by_name(name)
                    return
                except ObjectNotFound:
                    time.sleep(0.25)
        raise DueProcessError(f"deployment {name}: {deadline.describe()}")
    finally:
        if own:
            deadline.close()


# ---- checks that name the setting at fault --------------------------------------------

STACK_ID_VARIABLE = "DUEPROCESS_STACK_ID"


def check_prefect_api(api_url: str, *, setting: str = "PREFECT_API_URL",
                      timeout: float = 10) -> None:
    """Fail with a message naming the setting unless a Prefect API answers at api_url."""
    deadline = time.monotonic() + timeout
    error: str = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=3) as response:
                if response.status == 200:
                    return
                error = f"HTTP {response.status}"
        except (OSError, ValueError) as exc:
            error = str(getattr(exc, "reason", exc))
        time.sleep(0.5)
    raise DueProcessError(
        f"{setting}: cannot reach the Prefect server at {api_url} ({error}); start it, or "
        f"unset {setting} to let `dueprocess up` start one"
    )


def check_case_database(url: str) -> None:
    """Fail fast, naming DUEPROCESS_DATABASE_URL, when the case database is unreachable."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DueProcessError(f"DUEPROCESS_DATABASE_URL: not a database URL: {url!r}") from None
    if parsed.get_backend_name() != "postgresql":
        return  # SQLite: created on first use
    engine = create_engine(parsed, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise DueProcessError(
            f"DUEPROCESS_DATABASE_URL: cannot reach the case database "
            f"({parsed.render_as_string(hide_password=True)}): {str(exc.orig).strip()}"
        ) from None
    finally:
        engine.dispose()


# ---- children ---------------------------------------------------------------------------

@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def describe_exit(self) -> str:
        tail = ""
        with contextlib.suppress(OSError):
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
            tail = "\n  ".join(lines[-8:])
        return (f"{self.name} exited with code {self.process.returncode} "
                f"(log {self.log_path}):\n  {tail}")


def start_child(name: str, command: list[str], *, env: dict[str, str], log_path: Path,
                cwd: Path | None = None, umask: int = -1) -> Child:
    """Start `command` in its own session; it gets SIGTERM when this process dies. A
    `umask` (PRIVATE_UMASK for the Prefect server) makes the files it creates private."""
    with private_log(log_path) as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
            start_new_session=True, cwd=cwd, preexec_fn=lifeline_preexec(os.getpid()),
            umask=umask,
        )
    return Child(name, process, log_path)


def prefect_server_command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "prefect", "server", "start", "--host", host,
            "--port", str(port)]


def wait_for_deployments(names: list[str], api_url: str, *,
                         process: subprocess.Popen[bytes]) -> None:
    """Block until the runner has registered every deployment in `names`."""
    with StartupDeadline("the served deployments", factor=RUNNER_FACTOR) as deadline:
        for name in names:
            wait_for_deployment(name, api_url, process=process, deadline=deadline)


def processes_with_marker(stack_id: str, variable: str = STACK_ID_VARIABLE) -> list[int]:
    """Pids of live processes whose environment has variable=stack_id (Linux /proc)."""
    needle = f"{variable}={stack_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def kill_leftovers(stack_id: str) -> list[int]:
    """SIGKILL every process still carrying the stack's id; return their pids."""
    pids = processes_with_marker(stack_id)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return pids
