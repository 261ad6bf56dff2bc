"""What the capabilities' command groups share: their console, the options every writing
command takes, and reading a YAML or JSON file a command is given into a validated model,
with errors that name the file and the field."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from dueprocess.errors import DueProcessError, schema_problems

CHANNEL = "cli"  # how the audit names this way in
console = Console(width=None if sys.stdout.isatty() else 140)  # tables fit a log line
progress = Console(stderr=True)  # what a long step prints when stdout is not a terminal
Actor = Annotated[str, typer.Option("--as", help="Your handle")]
Token = Annotated[str | None, typer.Option(
    envvar="DUEPROCESS_TOKEN", help="Your API token (default: DUEPROCESS_TOKEN)",
    show_default=False)]
CaseFile = Annotated[Path, typer.Argument(
    help="Case file (YAML/JSON) without title and draft: organ, people, assignments, …")]


@contextmanager
def working(message: str, *, on: Console | None = None) -> Iterator[None]:
    """Show that something that may take more than a second is running: a spinner on a
    terminal; otherwise a plain line on stderr as it starts and one with its duration as
    it ends (piped stdout stays the command's output alone, and a log shows where the
    time went)."""
    shown = on or console
    if shown.is_terminal:
        with shown.status(message, spinner="dots"):
            yield
        return
    started = time.monotonic()
    progress.print(message, markup=False, highlight=False)
    yield
    progress.print(f"{message.removesuffix(' …')}: done in {time.monotonic() - started:.1f} s",
                 markup=False, highlight=False)


def ready() -> None:
    from dueprocess.db import migrate

    migrate()


def read_file(path: Path) -> Any:
    import yaml

    from dueprocess.services.payloads import load_yaml

    try:
        return load_yaml(path.read_text(encoding="utf-8"), field=f"file {path}")
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DueProcessError(f"{path}: {exc}") from None


def read_mapping(path: Path) -> dict[str, Any]:
    data = read_file(path)
    if not isinstance(data, dict):
        raise DueProcessError(f"{path}: expected a mapping of fields at the top")
    return data


def validated(model: Any, data: Any, source: Path) -> Any:
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = schema_problems(exc.errors())  # type: ignore[arg-type]
        raise DueProcessError(f"{source}: " + "; ".join(p.message for p in problems)) from None
