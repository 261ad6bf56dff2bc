"""What every command module shares: the consoles, and the steps before a command runs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from rich.console import Console

# Wide enough for the stage table when output is piped (rich assumes 80 columns).
console = Console(width=None if sys.stdout.isatty() else 120)
errors = Console(stderr=True)


def ready() -> None:
    """Bring the case database's schema up to date before a command uses it."""
    from dueprocess.db import migrate

    migrate()


def try_prefect(action: str, call: Callable[[], Any]) -> str:
    """Run a Prefect call; a missing server is reported, never a traceback."""
    try:
        return str(call())
    except Exception as exc:
        return f"{action} skipped: Prefect API unavailable ({type(exc).__name__}: {exc})"
