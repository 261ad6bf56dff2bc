"""Serve the dueprocess deployments from this process (`dueprocess serve`, `dueprocess up`).

Flow runs execute in subprocesses started by Prefect's runner; a suspended run holds no
process until it is resumed. The deployments, their triggers and schedules are defined
in `deployments.definitions` (the same ones `prefect.yaml` deploys to a work pool):
major-decision, resume-case, deadline-watchdog, and the delivery flow as notify-reviewers,
publish-decision and deliver-notices.
"""

from __future__ import annotations

import os
import signal
import threading
import time

from prefect import serve

from deployments.definitions import DELIVER_NOTICES, MAJOR_DECISION, served_deployments
from dueprocess.settings import get_ops_settings

__all__ = ["DELIVER_NOTICES", "MAJOR_DECISION", "main"]


def watch_parent(*, every: float = 1.0) -> None:
    """Stop (SIGTERM, as on Ctrl-C) once the `dueprocess up` that started us is gone: the
    fallback of the death signal it asks the kernel for (dueprocess.stack.lifeline)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main() -> None:
    if os.environ.get("DUEPROCESS_STACK_ID"):  # started by `dueprocess up`: stop with it
        watch_parent()
    # Back-pressure: at most this many flow-run processes at once; more runs wait.
    serve(*served_deployments(), limit=get_ops_settings().runner_process_limit)


if __name__ == "__main__":
    main()
