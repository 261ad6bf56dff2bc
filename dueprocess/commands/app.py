"""The `dueprocess` command line: the root app, which each command module adds its commands to."""

from __future__ import annotations

import importlib

import typer
from rich.markup import escape

from dueprocess.commands.console import errors
from dueprocess.db import DatabaseUnavailable
from dueprocess.errors import DueProcessError, Refused
from models.procedure import ProcedureError

app = typer.Typer(
    help="The `dueprocess` command line: officials open cases, reviewers record evidence.",
    no_args_is_help=True, pretty_exceptions_enable=False,
)


# Features add their own commands: each module has `register(app)`.
COMMAND_MODULES = (
    "dueprocess.commands.cases", "dueprocess.commands.procedure", "dueprocess.commands.ledger",
    "dueprocess.commands.stack", "portal.cli", "portal.comments_cli",
)


def _register_features() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


def main() -> None:
    _register_features()
    try:
        app()
    except Refused as refused:
        errors.print("[red]refused:[/]")
        for problem in refused.problems:
            errors.print(f"  - {problem}", markup=False)
        raise SystemExit(2) from None
    except (DueProcessError, ProcedureError, DatabaseUnavailable) as exc:
        # The message may quote input (a file name, a field): never read it as markup.
        errors.print("[red]error:[/]", escape(str(exc)), highlight=False)
        raise SystemExit(2) from None
