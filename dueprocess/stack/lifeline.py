"""Children that die with their parent: Linux's PR_SET_PDEATHSIG, and a parent watch
where that is not available or not enough.

`up` starts its children with `lifeline_preexec` (run in the child between fork and
exec): when `up` dies, even by SIGKILL, the kernel sends each child SIGTERM, and each
stops the processes it started as it would on Ctrl-C. The runner also watches its parent
(deployments.serve.watch_parent), for systems without prctl; `dueprocess down` stops
whatever is left.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
from collections.abc import Callable
from functools import lru_cache

PR_SET_PDEATHSIG = 1
DEATH_SIGNAL = signal.SIGTERM  # graceful: the runner cancels its runs, the server its worker


@lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name, use_errno=True) if name else None
    except OSError:
        return None


def set_death_signal(sig: int = DEATH_SIGNAL) -> bool:
    """Ask the kernel to send `sig` to this process when its parent dies (Linux)."""
    libc = _libc()
    if libc is None or not hasattr(libc, "prctl"):
        return False
    return bool(libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0)


def lifeline_preexec(parent_pid: int) -> Callable[[], None]:
    """A preexec_fn for Popen: death signal on, stop signals unblocked (a mask is
    inherited), and if the parent already died between fork and prctl, exit at once."""

    _libc()  # found here: the child between fork and exec must not search for it

    def preexec() -> None:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
        set_death_signal()
        if os.getppid() != parent_pid:
            os._exit(1)

    return preexec
