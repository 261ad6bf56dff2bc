"""What every command module shares: the consoles, and the steps before a command runs.

Read commands (`cases`, `status`, `archive`, …) do not migrate: a migration takes seconds
and a write lock. Commands that write call `ready()`, which brings the schema up to date;
`init`, `up` and `demo` do too. A read on a database without the schema is told to run
`dueprocess init` (see `dueprocess.commands.app`).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

# Wide enough for the stage table when output is piped (rich assumes 80 columns).
console = Console(width=None if sys.stdout.isatty() else 120)
errors = Console(stderr=True)

# Prefect's background queues (events, API logs) warn "Still processing items: …" while
# they drain at exit; that is Prefect's housekeeping, not something the user can act on.
PREFECT_QUEUE_LOGGERS = ("EventsWorker", "APILogWorker")


def quiet_prefect_services() -> None:
    for name in PREFECT_QUEUE_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def ready() -> None:
    """Bring the case database's schema up to date before a command writes to it."""
    from dueprocess.db import migrate

    migrate()


def paste(command: str) -> None:
    """Print a command to copy and paste: never wrapped, no markup, no highlighting."""
    console.print(command, markup=False, highlight=False, soft_wrap=True)


def try_prefect(action: str, call: Callable[[], Any]) -> str:
    """Run a Prefect call; a missing server is reported, never a traceback."""
    try:
        return str(call())
    except Exception as exc:
        return f"{action} skipped: Prefect API unavailable ({type(exc).__name__}: {exc})"


def prefect_api_problem(timeout: float = 2.0) -> str | None:
    """Why the Prefect API cannot be used from here, or None when it answers.

    Checked before any Prefect call: with no PREFECT_API_URL, Prefect would start a
    temporary server of its own (a minute, and then nothing waits there), so the CLI never
    lets it.
    """
    import urllib.request

    api_url = os.environ.get("PREFECT_API_URL") or _api_url_from_profile()
    if not api_url:
        return ("PREFECT_API_URL is not set, so no Prefect server is known. Start the stack "
                "with `dueprocess up`, then in this shell:\n"
                "export PREFECT_API_URL=http://127.0.0.1:4200/api")
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as reply:
            if reply.status == 200:
                return None
            error = f"HTTP {reply.status}"
    except (OSError, ValueError) as exc:
        error = str(getattr(exc, "reason", exc))
    return f"PREFECT_API_URL={api_url}: the Prefect server does not answer ({error})"


def _api_url_from_profile() -> str | None:
    """The API URL of the active Prefect profile, read without importing Prefect."""
    import tomllib

    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect")
    profiles = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml")
    try:
        data = tomllib.loads(profiles.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or data.get("active")
    value = data.get("profiles", {}).get(active or "", {}).get("PREFECT_API_URL")
    return str(value) if value else None
