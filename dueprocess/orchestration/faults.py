"""Fault injection for the fault tests: SIGKILL this process at a named point, once.

`DUEPROCESS_FAULT_POINTS` names the points (comma-separated) and `DUEPROCESS_FAULT_DIR`
a directory where each point leaves a marker when it fires, so that the process started
after the kill (a rescheduled flow run) passes the same point. Unset in production: the
hook is then one dictionary lookup.

Points: `<event kind>:in-transaction` (inside the transaction that records the change),
`<event kind>:after-commit` (after it commits, before anything reacts to it).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

POINTS_VARIABLE = "DUEPROCESS_FAULT_POINTS"
DIR_VARIABLE = "DUEPROCESS_FAULT_DIR"


def fault_point(name: str) -> None:
    points = os.environ.get(POINTS_VARIABLE)
    if not points or name not in {p.strip() for p in points.split(",")}:
        return
    marker = Path(os.environ.get(DIR_VARIABLE) or ".") / f"{name.replace(':', '_')}.fired"
    try:
        # Exclusive creation: exactly one process fires each point.
        marker.parent.mkdir(parents=True, exist_ok=True)
        with marker.open("x") as handle:
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            os.fsync(handle.fileno())
    except FileExistsError:
        return
    os.kill(os.getpid(), signal.SIGKILL)


def fired(directory: Path, name: str) -> int | None:
    """The pid of the process that fired `name` in `directory`, if it fired."""
    marker = directory / f"{name.replace(':', '_')}.fired"
    try:
        return int(marker.read_text().strip() or 0) or None
    except (FileNotFoundError, ValueError):
        return None
