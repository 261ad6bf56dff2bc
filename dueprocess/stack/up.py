"""`dueprocess up`: the whole embedded stack from one command.

`up` checks the settings, migrates the case database, starts a Prefect server on SQLite
under the data directory bound to 127.0.0.1 (or uses the server PREFECT_API_URL names),
serves every deployment with its triggers and schedules, starts the public portal when
it is installed, recovers the cases that were waiting, and prints the addresses. Ctrl-C
or SIGTERM stops the runner first (it pauses its deployments and cancels what it runs,
and may need a second signal), then the portal and the server, and finally kills any
process of the stack still alive. Run it again and the cases carry on.

Prefect reads its settings (PREFECT_API_URL, PREFECT_HOME, …) once, when it is first
imported, and `up` sets them for the server it starts or uses: what imports Prefect
(the deployments too) is imported in the function that calls it, after that.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
import time
import uuid
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from rich.console import Console

from dueprocess.db import migrate
from dueprocess.errors import DueProcessError
from dueprocess.orchestration.recovery import is_noteworthy, recover_open_cases
from dueprocess.services.case_clock import simulated_cases
from dueprocess.settings import get_ops_settings, get_portal_settings, get_settings
from dueprocess.stack.processes import (
    PRIVATE_UMASK,
    STACK_ID_VARIABLE,
    Child,
    check_case_database,
    check_prefect_api,
    kill_leftovers,
    prefect_environment,
    prefect_server_command,
    prefect_server_environment,
    processes_with_marker,
    secure_data_dir,
    start_child,
    stop_process,
    wait_for_deployments,
    wait_until_healthy,
)
from dueprocess.stack.record import (
    Member,
    StackRecord,
    check_port_free,
    data_dir_lock,
    describe,
    read_record,
    remove_record,
    write_record,
)

ORPHANED = "the previous `dueprocess up` stopped while this run was active"


class Stop(BaseException):
    """A stop signal arrived. A BaseException, as KeyboardInterrupt is: a library's
    `except Exception` on the way must not swallow it and carry on starting things."""


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def portal_available() -> bool:
    try:
        return importlib.util.find_spec("portal.app") is not None
    except ModuleNotFoundError:
        return False


def crash_orphaned_runs(deployment_names: list[str]) -> int:
    """Mark runs of our deployments that were active when the previous stack died.

    Only called when `up` runs its own server: no other runner can be executing them.
    The resulting Crashed state lets recovery restart them like any crashed run.
    """
    from prefect.client.orchestration import get_client  # deferred: after PREFECT_* are set
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.states import Crashed

    active = [StateType.RUNNING, StateType.PENDING, StateType.CANCELLING]
    names = [name.split("/")[-1] for name in deployment_names]
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(
                type=FlowRunFilterStateType(any_=active))),
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=names)),
        )
        for run in runs:
            client.set_flow_run_state(run.id, Crashed(message=ORPHANED), force=True)
    return len(runs)


class UpStack:
    """The children of one `dueprocess up`, started in order and stopped in reverse, and
    recorded in DATA_DIR/stack.json as they start (`dueprocess down` reads it)."""

    def __init__(self, console: Console, data_dir: Path) -> None:
        self.console = console
        self.data_dir = data_dir
        self.stack_id = uuid.uuid4().hex
        self.children: list[Child] = []
        self.stopping = False
        self.starting = False  # a signal now is acted on once the child is recorded
        self.signalled: str | None = None
        self.record = StackRecord(stack_id=self.stack_id, up=Member.of("up", os.getpid()))

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, STACK_ID_VARIABLE: self.stack_id, **extra}

    def listen(self, name: str, port: int) -> None:
        self.record.ports[name] = port
        write_record(self.data_dir, self.record)

    def start(self, name: str, command: list[str], env: dict[str, str],
              umask: int = -1) -> Child:
        """Start a child unless a stop signal came; a signal arriving meanwhile (in any
        thread) is held until the child is recorded, so that it is stopped with the rest."""
        if self.signalled:
            raise Stop(self.signalled)
        self.starting = True
        try:
            child = start_child(name, command, env=env, umask=umask,
                                log_path=self.data_dir / "logs" / f"{name}.log")
            self.children.append(child)
            self.record.children.append(Member.of(name, child.process.pid))
            write_record(self.data_dir, self.record)
        finally:
            self.starting = False
        if self.signalled:
            raise Stop(self.signalled)
        return child

    def check_children(self) -> None:
        for child in self.children:
            if child.process.poll() is not None:
                raise DueProcessError(child.describe_exit())

    def stop(self) -> None:
        """Runner first (it needs the server to pause its deployments), then the rest."""
        self.stopping = True
        order = sorted(self.children, key=lambda c: {"runner": 0, "portal": 1}.get(c.name, 2))
        for child in order:
            if child.process.poll() is None:
                self.console.print(f"  stopping {child.name} (pid {child.process.pid})")
            stop_process(child.process, grace=20)
        leftovers = kill_leftovers(self.stack_id)
        if leftovers:
            self.console.print(f"  killed {len(leftovers)} leftover process(es): {leftovers}")
        remove_record(self.data_dir)


def _refuse_simulated_time_for_real_use(console: Console) -> None:
    """A stack for real use never runs a case on simulated time; a demo or test stack
    says so (DUEPROCESS_ALLOW_SIMULATED_TIME=true)."""
    simulated = simulated_cases()
    if get_settings().allow_simulated_time:
        console.print("[magenta]demo/test stack[/]: cases may run on simulated time "
                      f"({len(simulated)} do)")
    elif simulated:
        raise DueProcessError(
            f"{len(simulated)} case(s) in this database run on simulated time (e.g. "
            f"{simulated[0]}): a stack for real use refuses them; start a demo or test "
            "stack with DUEPROCESS_ALLOW_SIMULATED_TIME=true, or use another database")


def own_api(api_url: str, host: str, port: int) -> bool:
    """Whether PREFECT_API_URL names the server this `up` starts (the operator exported
    what the last `up` printed): then it is started, not merely checked."""
    parsed = urlsplit(api_url)
    local = {host, "127.0.0.1", "localhost"} if host in {"127.0.0.1", "localhost"} else {host}
    return (parsed.hostname in local and parsed.port == port
            and parsed.path.rstrip("/") == "/api")


def refuse_stale_stack(console: Console, data_dir: Path) -> None:
    """Holding the lock, find what a killed `up` left: its live processes are named and
    `dueprocess down` suggested; a record of processes all gone is removed."""
    record = read_record(data_dir)
    if record is None:
        return
    alive = [member for member in record.children if member.alive()]
    marked = [pid for pid in processes_with_marker(record.stack_id)
              if pid not in {m.pid for m in alive}]
    if alive or marked:
        named = describe(alive) + (f"{', ' if alive else ''}other pids {marked}" if marked else "")
        raise DueProcessError(
            f"DUEPROCESS_DATA_DIR: a stack left by a stopped `dueprocess up` (pid "
            f"{record.up.pid}) is still running on {data_dir}: {named}; stop it with "
            "`dueprocess down`")
    remove_record(data_dir)
    console.print(f"(the last `dueprocess up`, pid {record.up.pid}, did not stop cleanly; "
                  "none of its processes is left)", highlight=False)


def run_up(console: Console, *, host: str | None = None, port: int | None = None,
           with_portal: bool = True, ready_file: Path | None = None) -> None:
    holder: list[UpStack] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        stack = holder[0] if holder else None
        if stack is not None:
            stack.signalled = name
        if stack is None or not (stack.stopping or stack.starting):
            raise Stop(name)

    # First of all: a signal at any moment of start-up stops what has started.
    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    try:
        _run_up(console, holder, host=host, port=port, with_portal=with_portal,
                ready_file=ready_file)
    except Stop as stop:
        console.print(f"\n[bold]{stop} received[/]: nothing was started")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run_up(console: Console, holder: list[UpStack], *, host: str | None, port: int | None,
            with_portal: bool, ready_file: Path | None) -> None:
    settings, ops = get_settings(), get_ops_settings()
    host = host or ops.ui_host
    port = port or ops.ui_port
    data_dir = settings.data_dir
    external_api = os.environ.get("PREFECT_API_URL")
    if external_api and own_api(external_api, host, port):
        external_api = None
    check_case_database(settings.resolved_database_url)
    with data_dir_lock(data_dir):
        refuse_stale_stack(console, data_dir)
        for path in secure_data_dir(data_dir):
            console.print(f"  made private (0600/0700): {path}", highlight=False)
        stack = UpStack(console, data_dir)
        write_record(data_dir, stack.record)
        holder.append(stack)
        try:
            migrate()
            _refuse_simulated_time_for_real_use(console)
            _start(console, stack, host=host, port=port, external_api=external_api,
                   with_portal=with_portal, ready_file=ready_file)
            while True:
                time.sleep(0.5)
                stack.check_children()
        except Stop as stop:
            stack.stopping = True
            console.print(f"\n[bold]{stop} received[/]: stopping the stack")
        finally:
            # A second signal while stopping must not interrupt the stopping itself.
            stack.stopping = True
            stack.stop()
            if ready_file is not None:
                ready_file.unlink(missing_ok=True)
        console.print("stopped; no process of the stack is left")


def _start(console: Console, stack: UpStack, *, host: str, port: int,
           external_api: str | None, with_portal: bool, ready_file: Path | None) -> None:
    data_dir = stack.data_dir
    if external_api:
        check_prefect_api(external_api)
        api_url = external_api
        console.print(f"Prefect server: {api_url} (PREFECT_API_URL)")
    else:
        check_port_free(host, port, "DUEPROCESS_UI_PORT")
        stack.listen("prefect-server", port)
        api_url = f"http://{host}:{port}/api"
        env = stack.env(**prefect_server_environment(data_dir, host, port))
        env.pop("PREFECT_API_URL", None)
        server = stack.start("prefect-server", prefect_server_command(host, port), env,
                             umask=PRIVATE_UMASK)
        with console.status(f"starting the Prefect server on {host}:{port} "
                            f"(SQLite under {data_dir / 'prefect'}) …"):
            took = wait_until_healthy(api_url, process=server.process)
        console.print(f"Prefect server on {host}:{port} answered after {took:.1f} s "
                      f"(SQLite under {data_dir / 'prefect'})", highlight=False)
    prefect_env = prefect_environment(data_dir, api_url)
    os.environ.update(prefect_env)  # this process talks to the same server …
    from prefect.settings import PREFECT_API_URL, temporary_settings  # deferred: see above

    # … and Prefect read its settings when it was imported, so tell it again.
    with temporary_settings({PREFECT_API_URL: api_url}):
        _serve(console, stack, api_url=api_url, prefect_env=prefect_env,
               own_server=not external_api, with_portal=with_portal, ready_file=ready_file)


def _serve(console: Console, stack: UpStack, *, api_url: str, prefect_env: dict[str, str],
           own_server: bool, with_portal: bool, ready_file: Path | None) -> None:
    from deployments.definitions import specs  # deferred: Prefect, after PREFECT_* are set

    data_dir = stack.data_dir
    runner = stack.start("runner", [sys.executable, "-m", "deployments.serve"],
                         stack.env(**{**prefect_env, "PREFECT_LOGGING_LEVEL": "INFO"}))
    names = [f"{spec.load_flow().name}/{spec.name}" for spec in specs()]
    with console.status("waiting for the runner to register the deployments …"):
        wait_for_deployments(names, api_url, process=runner.process)
    _unpause(names)
    console.print(f"serving {len(names)} deployments: "
                  f"{', '.join(n.split('/')[-1] for n in names)}")
    if own_server:
        orphaned = crash_orphaned_runs(names)
        if orphaned:
            console.print(f"  {orphaned} run(s) were active when the last stack stopped")
    recovered = recover_open_cases()
    for case_id, action in recovered:
        if is_noteworthy(action):
            console.print(f"  case {case_id}: {action}")
    if recovered:
        console.print(f"  {len(recovered)} case(s) checked")
    portal_url = None
    if with_portal and portal_available():
        portal = get_portal_settings()
        check_port_free(portal.portal_host, portal.portal_port, "DUEPROCESS_PORTAL_PORT")
        stack.listen("portal", portal.portal_port)
        stack.start("portal", [sys.executable, "-m", "uvicorn",
                               "dueprocess.composition.portal:create_app", "--factory",
                               "--host", portal.portal_host, "--port", str(portal.portal_port),
                               "--log-level", "warning",
                               # the portal trusts X-Forwarded-For itself, from configured
                               # proxies only (DUEPROCESS_PORTAL_TRUSTED_PROXIES)
                               "--no-proxy-headers"],
                    stack.env(**prefect_env))
        portal_url = f"http://{portal.portal_host}:{portal.portal_port}"
    ui = api_url.removesuffix("/api")
    console.print(f"\n[bold green]dueprocess is up[/]\n  Prefect UI:  {ui}")
    if portal_url:
        console.print(f"  Portal:      {portal_url}")
    console.print(f"  Logs:        {data_dir / 'logs'}")
    console.print("In another shell (same directory), paste:")
    # One line, never wrapped, no markup: it must survive copy and paste.
    console.print(f"export PREFECT_API_URL={api_url}", markup=False, highlight=False,
                  soft_wrap=True)
    console.print("then: dueprocess open …, record …, status …   Press Ctrl-C to stop.")
    if ready_file is not None:
        ready_file.write_text(f"{ui}\n{portal_url or ''}\n")


def _unpause(names: list[str]) -> None:
    """`serve` pauses its deployments when it stops; a new stack serves them again."""
    from prefect.client.orchestration import get_client  # deferred: after PREFECT_* are set

    with get_client(sync_client=True) as client:
        for name in names:
            deployment = client.read_deployment_by_name(name)
            if deployment.paused:
                client.resume_deployment(deployment.id)
