"""How long a start-up may take on this machine now, measured rather than guessed.

A fixed timeout (120 s for the Prefect server) is too short on a loaded machine and too
long on an idle one. Instead, a *reference start-up* is measured next to the real one: a
fresh interpreter importing Prefect's server, the bulk of what `prefect server start` does
before it answers. Both slow down alike under load, so the deadline is a multiple of the
reference (`factor`), never below `floor`. The reference runs in parallel, so it costs no
waiting; until it is measured, only a process that died ends the wait.
"""

from __future__ import annotations

import subprocess
import sys
import time
from functools import cache

REFERENCE_IMPORT = "import prefect.server.api.server"
# A Prefect server answers its health check in about 3-5 times the reference import on
# an idle or a loaded machine; 15 leaves room for a slow SQLite migration.
SERVER_FACTOR = 15.0
# The runner imports the flows and registers every deployment: a few reference imports.
RUNNER_FACTOR = 15.0
FLOOR_SECONDS = 30.0
# Even a reference that never finishes (a swapping machine) does not wait forever.
CEILING_SECONDS = 1800.0


def _reference_command() -> list[str]:
    return [sys.executable, "-c", REFERENCE_IMPORT]


def measure_reference() -> float:
    """Seconds a fresh interpreter takes to import Prefect's server, measured now."""
    started = time.monotonic()
    subprocess.run(_reference_command(), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.monotonic() - started


@cache
def reference_seconds() -> float:
    """`measure_reference`, measured once per process (for tests and benchmarks)."""
    return measure_reference()


class StartupDeadline:
    """The deadline of one start-up, set once the reference beside it is measured."""

    def __init__(self, what: str, *, factor: float = SERVER_FACTOR,
                 floor: float = FLOOR_SECONDS, reference: float | None = None) -> None:
        self.what = what
        self.factor = factor
        self.floor = floor
        self.started = time.monotonic()
        self.reference = reference
        self._probe: subprocess.Popen[bytes] | None = None
        if reference is None:
            self._probe = subprocess.Popen(_reference_command(), stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL)

    def _measure(self) -> float | None:
        if self.reference is None and self._probe is not None and (
            self._probe.poll() is not None
        ):
            self.reference = time.monotonic() - self.started
            self._probe = None
        return self.reference

    @property
    def budget(self) -> float | None:
        """Seconds allowed from the start, or None while the reference still runs."""
        reference = self._measure()
        return None if reference is None else max(self.floor, self.factor * reference)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def passed(self) -> bool:
        budget = self.budget
        limit = CEILING_SECONDS if budget is None else min(budget, CEILING_SECONDS)
        return self.elapsed() > limit

    def describe(self) -> str:
        reference = self._measure()
        basis = (f"{self.factor:g} x the {reference:.1f} s a fresh Python took to import "
                 "Prefect's server just now" if reference is not None else "no reference yet")
        return f"{self.what} not ready after {self.elapsed():.0f} s ({basis})"

    def close(self) -> None:
        if self._probe is not None and self._probe.poll() is None:
            self._probe.kill()
            self._probe.wait()

    def __enter__(self) -> StartupDeadline:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
