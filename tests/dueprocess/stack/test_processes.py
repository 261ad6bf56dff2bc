"""Process helpers of the local stack."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from dueprocess.stack.processes import flow_processes, wait_for_flow_processes


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
