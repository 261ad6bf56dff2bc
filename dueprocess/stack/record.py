"""The record of a running stack: which processes are `up`'s, and whether they still are.

`up` holds an flock on DATA_DIR/up.lock while it runs and keeps DATA_DIR/stack.json
current: its own pid, each child's pid, name, start time (field 22 of /proc/<pid>/stat,
in clock ticks since boot) and command line, and the ports it listens on. A pid is the
stack's only while its start time and command line are the recorded ones, so a pid the
kernel has since given to another program is never signalled.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dueprocess.errors import DueProcessError

LOCK_NAME = "up.lock"
RECORD_NAME = "stack.json"


def start_time(pid: int) -> int | None:
    """When `pid` started (clock ticks since boot), or None if there is no such process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] == "Z":
        return None  # a zombie is gone, only not yet reaped
    return int(fields[19])  # field 22 of stat; fields here start at field 3


def command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


@dataclass(frozen=True)
class Member:
    name: str
    pid: int
    started: int | None
    cmdline: str

    @classmethod
    def of(cls, name: str, pid: int) -> Member:
        return cls(name=name, pid=pid, started=start_time(pid), cmdline=command_line(pid))

    def alive(self) -> bool:
        """Still this very process: same pid, start time and command line."""
        return (self.started is not None and start_time(self.pid) == self.started
                and command_line(self.pid) == self.cmdline)


@dataclass
class StackRecord:
    stack_id: str
    up: Member
    children: list[Member] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)

    def members(self) -> list[Member]:
        return [self.up, *self.children]

    def alive(self) -> list[Member]:
        return [member for member in self.members() if member.alive()]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> StackRecord:
        data = json.loads(text)
        return cls(stack_id=str(data["stack_id"]), up=Member(**data["up"]),
                   children=[Member(**child) for child in data.get("children", [])],
                   ports={str(k): int(v) for k, v in data.get("ports", {}).items()})


def describe(members: list[Member]) -> str:
    return ", ".join(f"{m.name} pid {m.pid}" for m in members)


def record_path(data_dir: Path) -> Path:
    return data_dir / RECORD_NAME


def write_record(data_dir: Path, record: StackRecord) -> None:
    """Replace the record atomically (a reader never sees half of it), mode 0600."""
    path = record_path(data_dir)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(record.to_json())
    os.replace(temporary, path)


def read_record(data_dir: Path) -> StackRecord | None:
    path = record_path(data_dir)
    try:
        return StackRecord.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        raise DueProcessError(f"DUEPROCESS_DATA_DIR: {path} is not a stack record; "
                              "remove it once no `dueprocess up` runs there") from None


def remove_record(data_dir: Path) -> None:
    record_path(data_dir).unlink(missing_ok=True)


def lock_holder(data_dir: Path) -> int | None:
    """The pid of the `up` holding the data directory's lock, None if it is free."""
    path = data_dir / LOCK_NAME
    if not path.exists():
        return None
    with path.open("r") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = handle.read().strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


@contextlib.contextmanager
def data_dir_lock(data_dir: Path) -> Iterator[None]:
    """One `dueprocess up` per data directory: two would run every flow twice."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = handle.read().strip() or "?"
            raise DueProcessError(
                f"DUEPROCESS_DATA_DIR: another `dueprocess up` is running on {data_dir} "
                f"(pid {holder}); stop it with `dueprocess down`"
            ) from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield


LISTEN = "0A"  # the state column of /proc/net/tcp


def socket_owner(port: int, *, listening: bool, skip: int | None = None) -> int | None:
    """The pid of a process holding a TCP socket on local `port` (listening on it, or the
    client end of a connection from it), when /proc tells (Linux, same user or root);
    `skip` is a pid not to name (the asking process). None otherwise."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if int(parts[1].rsplit(":", 1)[1], 16) == port and (
                    not listening or parts[3] == LISTEN):
                inodes.add(f"socket:[{parts[9]}]")
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == skip:
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        return int(proc.name)
    return None


def check_port_free(host: str, port: int, setting: str) -> None:
    """Fail with one message naming the setting, the port and, if known, who holds it."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
        try:
            sock.bind((host, port))
        except OSError as exc:
            holder = socket_owner(port, listening=True)
            who = (f"held by pid {holder} ({command_line(holder)[:120]})" if holder
                   else "held by another program")
            raise DueProcessError(
                f"{setting}: cannot listen on {host}:{port} ({exc.strerror}): port {port} is "
                f"{who}; stop it, or choose another port"
            ) from None
