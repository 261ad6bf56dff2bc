"""Process helpers of the local stack."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

from dueprocess.stack.processes import (
    flow_processes,
    process_group_members,
    stop_process,
    wait_for_flow_processes,
)
from dueprocess.stack.startup import StartupDeadline


def test_a_runners_flow_processes_are_seen_until_they_exit() -> None:
    flow = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.5)",
                             "prefect.engine"])
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert flow_processes(os.getpid()) == [flow.pid]  # not the unrelated child
        started = time.monotonic()
        wait_for_flow_processes(os.getpid(), timeout=20)
        assert flow.wait(timeout=1) == 0
        assert time.monotonic() - started < 15
        assert flow_processes(os.getpid()) == []
    finally:
        for child in (flow, other):
            child.kill()
            child.wait()


# A parent that starts a child in its own process group and exits at once, as
# `prefect server start` can leave its server; the child ignores the first SIGTERMs.
PARENT_LEAVES_CHILD = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", '''
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
time.sleep(600)
'''], stdout=sys.stdout)
print(child.pid, flush=True)
"""


def test_stopping_a_process_stops_its_whole_group_even_after_the_parent_exited() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT_LEAVES_CHILD],
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    assert parent.stdout.readline().strip() == "ready"
    assert parent.wait(timeout=60) == 0  # the parent is gone …
    assert process_group_members(parent.pid) == [child_pid]  # … its child is not
    stop_process(parent, grace=1)
    assert process_group_members(parent.pid) == []
    with contextlib.suppress(ChildProcessError):
        os.waitpid(child_pid, os.WNOHANG)
    assert not Path(f"/proc/{child_pid}").exists() or (
        Path(f"/proc/{child_pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z")


def test_a_start_up_deadline_is_a_multiple_of_the_measured_reference() -> None:
    with StartupDeadline("x", factor=10, floor=1, reference=0.5) as given:
        assert given.budget == 5
        assert not given.passed()
    with StartupDeadline("y", factor=10, floor=3) as measured:
        assert measured.budget is None  # the reference import is still running
        assert not measured.passed()
        started = time.monotonic()
        while measured.budget is None and time.monotonic() - started < 600:
            time.sleep(0.05)
        assert measured.reference is not None and measured.reference > 0
        assert measured.budget == max(3, 10 * measured.reference)
