"""Real processes for the fault tests: `dueprocess up` as a subprocess, the CLI as a
subprocess, a webhook receiver that SIGKILLs whoever is sending to it, and waiting."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

from dueprocess.stack.processes import free_port, processes_with_marker
from dueprocess.stack.record import socket_owner
from tests.support import startups, token_for

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from dueprocess.commands.app import main; main()"]
T = TypeVar("T")


def wait_until(check: Callable[[], T], *, timeout: float, what: str, every: float = 0.5) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


@dataclass
class UpProcess:
    """`dueprocess up --no-portal` in its own data directory, as a user would run it."""

    data_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    startup_seconds: float = 0.0  # how long the last `start` took, measured

    @property
    def api_url(self) -> str:
        return self.extra_env.get("PREFECT_API_URL") or f"http://127.0.0.1:{self.port}/api"

    @property
    def database_url(self) -> str:
        return self.extra_env.get("DUEPROCESS_DATABASE_URL") or \
            f"sqlite:///{self.data_dir / 'cases.db'}"

    @property
    def log(self) -> Path:
        return self.data_dir / f"up-{self.starts}.out"

    def env(self, **extra: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("PREFECT_", "DUEPROCESS_"))}
        return {**base, "DUEPROCESS_DATA_DIR": str(self.data_dir),
                "DUEPROCESS_ALLOW_SIMULATED_TIME": "true",  # the demo case's simulated clock
                "DUEPROCESS_DATABASE_URL": self.database_url,
                "DUEPROCESS_UI_PORT": str(self.port), "DO_NOT_TRACK": "1",
                "PREFECT_HOME": str(self.data_dir / "prefect"), **self.extra_env, **extra}

    def start(self, timeout: float | None = None) -> None:
        self.starts += 1
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            self.process = subprocess.Popen([*CLI, "up", "--no-portal"], env=self.env(),
                                            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                            start_new_session=True)
        started = time.monotonic()
        # `up` starts a Prefect server and a runner, each given 15 reference start-ups.
        wait_until(self._ready, timeout=timeout or startups(40),
                   what="dueprocess up to be ready")
        self.startup_seconds = time.monotonic() - started

    def _ready(self) -> bool:
        assert self.process is not None
        output = self.log.read_text(errors="replace")
        if self.process.poll() is not None:
            raise AssertionError(f"dueprocess up exited {self.process.returncode}:\n{output}")
        return "dueprocess is up" in output

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float | None = None) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout or startups(40))
        return code

    def leftovers(self) -> list[int]:
        return processes_with_marker(str(self.data_dir), "DUEPROCESS_DATA_DIR")

    def kill_everything(self) -> list[int]:
        """SIGKILL `up` and every process it started, at once: a machine that died."""
        pids = self.leftovers()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=startups(5))
        wait_until(lambda: not self.leftovers(), timeout=startups(5),
                   what="killed processes to go")
        return pids

    def cli(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        env = self.env(PREFECT_API_URL=self.api_url, **extra)
        return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True,
                              cwd=ROOT, timeout=startups(60))


class KillingReceiver:
    """A webhook receiver that SIGKILLs the process sending its first notice, mid-send,
    and afterwards accepts each Idempotency-Key once (counting redeliveries)."""

    def __init__(self) -> None:
        self.arrivals: Counter[str] = Counter()
        self.killed: list[int] = []
        self.kill_next = True
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                key = self.headers.get("Idempotency-Key") or ""
                with receiver._lock:
                    kill = receiver.kill_next
                    receiver.kill_next = False
                if kill:
                    pid = socket_owner(self.client_address[1], listening=False,
                                       skip=os.getpid())
                    if pid is not None:
                        os.kill(pid, signal.SIGKILL)
                        receiver.killed.append(pid)
                        self.close_connection = True
                        return  # the sender is dead: no answer
                with receiver._lock:
                    receiver.arrivals[key] += 1
                json.loads(body or b"{}")
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/notices"

    def write_apprise_config(self, path: Path, tags: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'version: 1\nurls:\n  - "{self.url}":\n      tag: {tags}\n',
                        encoding="utf-8")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class OwnPostgres:
    """A PostgreSQL server of the test's own on a free port, so that stopping it never
    disturbs the machine's server that other tests use (initdb/pg_ctl as `postgres`)."""

    def __init__(self) -> None:
        import glob
        import shutil
        import tempfile

        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not binaries or os.geteuid() != 0 or shutil.which("runuser") is None:
            raise RuntimeError("needs root, runuser and PostgreSQL's pg_ctl")
        self.bin = Path(binaries[-1]).parent
        # Under /tmp directly: pytest's own tmp directories are private to root.
        self.root = Path(tempfile.mkdtemp(prefix="dueprocess-pg-"))
        shutil.chown(self.root, "postgres", "postgres")
        self.port = free_port()
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.root / "data"), "-A", "trust",
                          "-U", "postgres", "--no-sync")

    def _as_postgres(self, *command: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True,
                       capture_output=True, timeout=startups(30))

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-l",
            str(self.root / "server.log"), "-w", "-o",
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast",
                          "-w", "stop")

    def create_database(self, name: str) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()

    def destroy(self) -> None:
        import shutil

        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def open_case(stack: UpProcess) -> str:
    """`dueprocess open` the demo case, which also starts its flow run."""
    from dueprocess.services.progress import advance_case
    from tests.conftest import DEMO_CASE
    from tests.support import as_official

    opened = stack.cli("open", str(DEMO_CASE), **as_official())
    assert opened.returncode == 0, opened.stderr
    case_id = opened.stdout.split("Opened case ")[1].split(":")[0]
    # Participation opens and dueprocess publishes its comment window now, not whenever the
    # flow run gets there: the tests record it at once (idempotent with the run's advance).
    advance_case(case_id=case_id)
    return case_id


def record(case_id: str, index: int) -> None:
    """Record step `index` of the demo steps and resume, as `dueprocess record` does."""
    from dueprocess.orchestration.case_runs import resume_after_recording
    from dueprocess.services.recording import record_evidence
    from tests.support import VALID_STEPS, advance_to_step

    stage, by, evidence = VALID_STEPS[index]
    advance_to_step(case_id, stage)  # the step's day on the case clock
    item = record_evidence(case_id=case_id, stage_key=stage, recorded_by=by,
                           evidence=evidence, channel="cli", token=token_for(by))
    resume_after_recording(item, timeout=startups(30))


def cli_record(stack: UpProcess, case_id: str, index: int, work_dir: Path,
               **env: str) -> subprocess.CompletedProcess[str]:
    from tests.support import VALID_STEPS, advance_to_step, token_for

    stage, by, evidence = VALID_STEPS[index]
    path = work_dir / f"step-{index}.json"
    path.write_text(json.dumps(evidence), encoding="utf-8")
    from sqlalchemy.exc import OperationalError

    from dueprocess.db import DatabaseUnavailable

    # The case database may be down on purpose: then the command fails before identity.
    with contextlib.suppress(OperationalError, DatabaseUnavailable):
        env.setdefault("DUEPROCESS_TOKEN", token_for(by))
        advance_to_step(case_id, stage)  # the step's day on the case clock
    return stack.cli("record", case_id, stage, "--file", str(path), "--as", by, **env)


def stage_completed(case_id: str, stage: str) -> bool:
    from dueprocess.services.case_view import case_view

    return any(s.key == stage and s.status.value == "completed"
               for s in case_view(case_id).stages)


def assert_completed_once(case_id: str) -> None:
    """Closed, every stage completed in order, each evidence item once, one decision, and
    the driving run completed."""
    from sqlmodel import func, select

    from dueprocess.db import session_scope
    from dueprocess.services.case_view import case_view
    from models.decisions import Decision
    from models.evidence import EvidenceItem
    from tests.support import VALID_STEPS

    view = case_view(case_id)
    assert view.case.status.value == "closed", view.case.status
    assert [s.status.value for s in view.stages] == ["completed"] * len(view.stages)
    done = {s.key: s.completed_at for s in view.stages if s.completed_at}
    assert done["legality_review"] >= max(done["public_participation"],
                                          done["expert_review"], done["risk_assessment"])
    assert done["legality_review"] <= done["collective_decision"] <= done["publication"]
    with session_scope() as session:
        items = session.exec(select(EvidenceItem).where(EvidenceItem.case_id == case_id)).all()
        assert Counter((i.stage_key, i.recorded_by) for i in items) == Counter(
            (stage, by) for stage, by, _ in VALID_STEPS), "every evidence item exactly once"
        assert session.exec(select(func.count()).select_from(Decision)
                            .where(Decision.case_id == case_id)).one() == 1
    run_id = view.case.flow_run_id
    assert run_id is not None

    def run_completed() -> bool:
        from uuid import UUID

        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            state = client.read_flow_run(UUID(run_id)).state
        return state is not None and state.is_completed()

    wait_until(run_completed, timeout=startups(60), what="the case's flow run to complete")
