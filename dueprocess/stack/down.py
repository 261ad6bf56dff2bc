"""`dueprocess down`: stop the stack of this data directory, also one a killed `up` left.

A running `up` is asked to stop (SIGTERM) and does so itself. Otherwise the processes in
DATA_DIR/stack.json are stopped, each only after checking that its pid still has the
recorded start time and command line, and then whatever still carries the stack's id in
its environment (flow runs the runner started in their own sessions). Nothing else is
ever signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from rich.console import Console

from dueprocess.errors import DueProcessError
from dueprocess.stack.processes import process_group_members, processes_with_marker
from dueprocess.stack.record import (
    Member,
    StackRecord,
    describe,
    lock_holder,
    read_record,
    remove_record,
)

GRACE_SECONDS = 20.0


def _ours(record: StackRecord, members: list[Member]) -> list[int]:
    """Live processes of the stack: verified members, their process groups (each child
    leads its own session), and every process marked with the stack's id."""
    pids = {m.pid for m in members if m.alive()}
    for member in members:
        if member.alive():
            pids.update(process_group_members(member.pid))
    pids.update(processes_with_marker(record.stack_id))
    pids.discard(os.getpid())
    return sorted(pids)


def _signal_all(record: StackRecord, members: list[Member], sig: int) -> list[int]:
    pids = _ours(record, members)
    for member in members:
        if member.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(member.pid, sig)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
    return pids


def stop_left_stack(console: Console, record: StackRecord, *,
                    grace: float = GRACE_SECONDS) -> list[int]:
    """SIGTERM, then SIGKILL after `grace`, to what is still the stack's; return the pids."""
    members = [m for m in record.children if m.alive()]
    gone = [m for m in record.children if m not in members and m.started is not None
            and Path(f"/proc/{m.pid}").exists()]
    for member in gone:
        console.print(f"  pid {member.pid} is no longer the stack's {member.name}: left alone",
                      highlight=False)
    stopped = _ours(record, members)
    if not stopped:
        return []
    console.print(f"  stopping {describe(members) or 'the stack'} "
                  f"({len(stopped)} process(es): {stopped})", highlight=False)
    _signal_all(record, members, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _ours(record, members) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = _signal_all(record, members, signal.SIGKILL)
    if left:
        console.print(f"  killed {len(left)} that ignored SIGTERM: {left}", highlight=False)
    deadline = time.monotonic() + 10
    while _ours(record, members) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _ours(record, members):
        raise DueProcessError(f"processes of the stack survived SIGKILL: "
                              f"{_ours(record, members)}")
    return stopped


def run_down(console: Console, *, data_dir: Path, timeout: float) -> None:
    record = read_record(data_dir)
    holder = lock_holder(data_dir)
    if holder is not None:
        up = record.up if record is not None and record.up.pid == holder else None
        if up is None or not up.alive():
            raise DueProcessError(f"DUEPROCESS_DATA_DIR: the lock on {data_dir} is held by pid "
                                  f"{holder}, not a recorded `dueprocess up`; left alone")
        console.print(f"asking `dueprocess up` (pid {up.pid}) to stop …", highlight=False)
        os.kill(up.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while lock_holder(data_dir) is not None:
            if time.monotonic() > deadline:
                raise DueProcessError(f"`dueprocess up` (pid {up.pid}) did not stop within "
                                      f"{timeout:.0f} s; run `dueprocess down` again")
            time.sleep(0.2)
        console.print("stopped")
        return
    if record is None:
        console.print(f"no stack is recorded in {data_dir}: nothing to stop", highlight=False)
        return
    console.print(f"`dueprocess up` (pid {record.up.pid}) is gone; stopping what it left",
                  highlight=False)
    stopped = stop_left_stack(console, record)
    remove_record(data_dir)
    console.print(f"stopped {len(stopped)} process(es); `dueprocess up` may start again"
                  if stopped else "none of its processes was left", highlight=False)
