"""Commands of this feature for the `dueprocess` CLI."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this feature's commands to the CLI."""
