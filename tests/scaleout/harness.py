"""A scale-out stack on this machine, as docs/scale-out.md describes it for several hosts.

Fresh PostgreSQL databases (one for Prefect, one for the cases) on the machine's server,
a Redis database of its own for Prefect's messaging, two Prefect API servers sharing them
(the first also runs the background services), the deployments registered with the real
`prefect deploy --all --prefect-file deployments/prefect.yaml`, and process workers, each
talking to a different API server. Used by tests/scaleout and bench/.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench._stack import drain_events, startups
from dueprocess.stack.processes import (
    Child,
    free_port,
    prefect_server_command,
    start_child,
    stop_process,
    wait_until_healthy,
)

ROOT = Path(__file__).resolve().parents[2]
PG_SERVER = os.environ.get(
    "DUEPROCESS_SCALEOUT_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def reachable(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex((host, port)) == 0


def services_missing() -> str | None:
    pg = make_url(PG_SERVER)
    if not reachable(pg.host or "127.0.0.1", pg.port or 5432):
        return f"PostgreSQL is not running at {pg.host}:{pg.port} (.ci/run starts it)"
    if not reachable(REDIS_HOST, REDIS_PORT):
        return f"Redis is not running at {REDIS_HOST}:{REDIS_PORT} (.ci/run starts it)"
    return None


def _admin(sql: str) -> None:
    engine = create_engine(make_url(PG_SERVER), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(sql))
    engine.dispose()


def redis(*args: str) -> str:
    return subprocess.run(["redis-cli", "-h", REDIS_HOST, "-p", str(REDIS_PORT), *args],
                          capture_output=True, text=True, check=True).stdout.strip()


@dataclass
class ScaleOut:
    work_dir: Path
    prefect_db: str
    cases_db: str
    redis_db: int
    api_urls: list[str] = field(default_factory=list)
    servers: list[Child] = field(default_factory=list)
    workers: list[Child] = field(default_factory=list)

    @property
    def cases_url(self) -> str:
        return make_url(PG_SERVER).set(database=self.cases_db).render_as_string(False)

    def server_env(self) -> dict[str, str]:
        pg = make_url(PG_SERVER).set(drivername="postgresql+asyncpg", database=self.prefect_db)
        redis_url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{self.redis_db}"
        return {
            **self.common_env(),
            "PREFECT_API_DATABASE_CONNECTION_URL": pg.render_as_string(False),
            "PREFECT_MESSAGING_BROKER": "prefect_redis.messaging",
            "PREFECT_MESSAGING_CACHE": "prefect_redis.messaging",
            "PREFECT_SERVER_EVENTS_CAUSAL_ORDERING": "prefect_redis.ordering",
            "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": "prefect_redis.lease_storage",
            "PREFECT_REDIS_MESSAGING_HOST": REDIS_HOST,
            "PREFECT_REDIS_MESSAGING_PORT": str(REDIS_PORT),
            "PREFECT_REDIS_MESSAGING_DB": str(self.redis_db),
            "PREFECT_SERVER_DOCKET_URL": redis_url,
        }

    def common_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PREFECT_", "DUEPROCESS_"))}
        return {
            **env,
            "PREFECT_HOME": str(self.work_dir / "prefect-home"),
            "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "INFO",
            "DUEPROCESS_DATA_DIR": str(self.work_dir / "data"),
            "DUEPROCESS_DATABASE_URL": self.cases_url,
            "DUEPROCESS_ALLOW_SIMULATED_TIME": "true",  # the demo case's simulated clock
        }

    def worker_env(self, api_url: str, **extra: str) -> dict[str, str]:
        return {**self.common_env(), "PREFECT_API_URL": api_url,
                "PREFECT_WORKER_QUERY_SECONDS": "1", **extra}

    def start_server(self, *, services: bool) -> str:
        port = free_port()
        command = prefect_server_command("127.0.0.1", port)
        if not services:
            command.append("--no-services")
        child = start_child(f"server-{len(self.servers) + 1}", command, env=self.server_env(),
                            log_path=self.work_dir / f"server-{len(self.servers) + 1}.log")
        self.servers.append(child)
        api_url = f"http://127.0.0.1:{port}/api"
        wait_until_healthy(api_url, process=child.process)  # deadline: measured
        self.api_urls.append(api_url)
        return api_url

    def prefect(self, *args: str, api_url: str | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "prefect", "--no-prompt", *args], cwd=ROOT,
            env=self.worker_env(api_url or self.api_urls[0]), capture_output=True, text=True,
            timeout=startups(100),
        )
        if result.returncode != 0:
            raise RuntimeError(f"prefect {' '.join(args)} failed:\n{result.stdout}\n"
                               f"{result.stderr}")
        return result.stdout

    def start_worker(self, api_url: str, **extra: str) -> Child:
        name = f"worker-{len(self.workers) + 1}"
        child = start_child(
            name, [sys.executable, "-m", "prefect", "worker", "start", "--pool", "dueprocess",
                   "--type", "process", "--name", name],
            env=self.worker_env(api_url, **extra), log_path=self.work_dir / f"{name}.log",
            cwd=self.work_dir,
        )
        self.workers.append(child)
        return child

    def stop(self) -> None:
        for child in [*self.workers, *reversed(self.servers)]:
            stop_process(child.process, grace=15)


@contextmanager
def scale_out(work_dir: Path, *, workers: int = 2, worker_env: dict[str, str] | None = None,
              ) -> Iterator[ScaleOut]:
    """The whole stack; dropped (databases, Redis db) afterwards."""
    suffix = secrets.token_hex(4)
    stack = ScaleOut(work_dir, f"prefect_scaleout_{suffix}", f"cases_scaleout_{suffix}",
                     redis_db=2 + secrets.randbelow(14))
    _admin(f'CREATE DATABASE "{stack.prefect_db}"')
    _admin(f'CREATE DATABASE "{stack.cases_db}"')
    redis("-n", str(stack.redis_db), "FLUSHDB")
    try:
        stack.start_server(services=True)
        stack.start_server(services=False)  # a second API server on the same database
        stack.prefect("work-pool", "create", "dueprocess", "--type", "process")
        stack.prefect("deploy", "--all", "--prefect-file", "deployments/prefect.yaml")
        for index in range(workers):
            stack.start_worker(stack.api_urls[index % len(stack.api_urls)],
                               **(worker_env or {}))
        yield stack
    finally:
        stack.stop()
        for database in (stack.prefect_db, stack.cases_db):
            _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        redis("-n", str(stack.redis_db), "FLUSHDB")


@contextmanager
def pointed_at(database_url: str, api_url: str, *,
               data_dir: Path | None = None) -> Iterator[None]:
    """This process uses the given case database and Prefect API server (and migrates),
    and the stack's data directory when given: its keys then are the stack's, as a CLI of
    that stack has them (a form code's digest is keyed by the log's signing key)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from dueprocess.db import migrate
    from dueprocess.settings import get_settings

    names = ("DUEPROCESS_DATABASE_URL", "PREFECT_API_URL", "DUEPROCESS_DATA_DIR")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update({"DUEPROCESS_DATABASE_URL": database_url, "PREFECT_API_URL": api_url})
    if data_dir is not None:
        os.environ["DUEPROCESS_DATA_DIR"] = str(data_dir)
    get_settings.cache_clear()
    try:
        migrate()
        drain_events()  # Prefect's events worker keeps the API URL it was created with
        with temporary_settings({PREFECT_API_URL: api_url}):
            try:
                yield
            finally:
                drain_events()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


def wait_for_workers(stack: ScaleOut, timeout: float | None = None) -> None:
    """Until every worker has announced itself to the pool."""
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + (timeout or startups(45))
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            names = {w.name for w in client.read_workers_for_work_pool("dueprocess")}
            if {w.name for w in stack.workers} <= names:
                return
            for worker in stack.workers:
                if worker.process.poll() is not None:
                    raise RuntimeError(worker.describe_exit())
            time.sleep(1)
    raise RuntimeError("the workers did not register with the work pool")
