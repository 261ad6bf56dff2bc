"""The `dueprocess` command line: the root app, which each command module adds its commands to.

Start-up time matters (`cases` and `status` are typed often), so this module and the
command modules import only typer at the top: every heavy import (Prefect, the rules, the
database, alembic) happens inside the command that needs it, and errors are classified
lazily when one reaches `main`. Which command groups there are is `COMMAND_GROUPS`, the
one registry of the CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, get_args

import typer
from rich.markup import escape

from dueprocess import __version__
from dueprocess.commands import cases, ledger, procedure, stack
from dueprocess.commands.console import errors, quiet_prefect_services
from dueprocess.errors import DueProcessError, Refused
from implementation import cli as implementation_cli
from notifications import cli as notices_cli
from portal.comments import cli as comments_cli
from programme import cli as programme_cli

app = typer.Typer(
    help="The `dueprocess` command line: officials open cases, reviewers record evidence.",
    no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


# Every command group, the core's and each capability's: `register(app)` adds its commands.
COMMAND_GROUPS = (
    cases.register, procedure.register, ledger.register, stack.register,
    notices_cli.register, comments_cli.register, programme_cli.register,
    implementation_cli.register,
)

# The help groups commands by who uses them: one table, by command name (a command it does
# not name lands in OTHER_PANEL).
CASES_PANEL = "Cases: open, follow and record"
PROCEDURE_PANEL = "Procedure: people, assignments, drafts, archive"
LEDGER_PANEL = "Transparency log and dossiers"
STACK_PANEL = "Running the stack"
PUBLIC_PANEL = "The public: portal and notices"
OTHER_PANEL = "Other commands"
PANELS = {
    "open": CASES_PANEL, "cases": CASES_PANEL, "status": CASES_PANEL, "record": CASES_PANEL,
    "people": PROCEDURE_PANEL, "credentials": PROCEDURE_PANEL, "assign": PROCEDURE_PANEL,
    "assign-group": PROCEDURE_PANEL,
    "declare-interest": PROCEDURE_PANEL, "panel-note": PROCEDURE_PANEL,
    "revise": PROCEDURE_PANEL, "sign-opinion": PROCEDURE_PANEL, "package": PROCEDURE_PANEL,
    "archive": PROCEDURE_PANEL,
    "verify": LEDGER_PANEL, "publish-head": LEDGER_PANEL, "export": LEDGER_PANEL,
    "verify-dossier": LEDGER_PANEL, "verify-receipt": LEDGER_PANEL,
    "init": STACK_PANEL, "up": STACK_PANEL, "serve": STACK_PANEL, "recover": STACK_PANEL,
    "demo": STACK_PANEL, "down": STACK_PANEL,
    "portal": PUBLIC_PANEL, "notices": PUBLIC_PANEL, "comments": PUBLIC_PANEL,
    "form-code": CASES_PANEL, "extend-window": CASES_PANEL, "witness": LEDGER_PANEL,
    "witness-keygen": LEDGER_PANEL, "witness-serve": LEDGER_PANEL,
    "init-admin": PROCEDURE_PANEL, "programme": PUBLIC_PANEL,
    "implementation": PUBLIC_PANEL,
}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dueprocess {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[bool, typer.Option(
        "--version", "-V", callback=_version, is_eager=True,
        help="Print the version and exit.")] = False,
) -> None:
    """The `dueprocess` command line: officials open cases, reviewers record evidence."""


def _register_features() -> None:
    for register in COMMAND_GROUPS:
        register(app)
    for command in app.registered_commands:
        name = command.name or (command.callback.__name__ if command.callback else "")
        command.rich_help_panel = command.rich_help_panel or PANELS.get(name, OTHER_PANEL)
    for group in app.registered_groups:
        group.rich_help_panel = group.rich_help_panel or PANELS.get(group.name or "", OTHER_PANEL)


def _metavar(param: Any) -> str | None:
    """What an option takes, in words (PATH, TEXT, N); "" for a flag; None to keep."""
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return ""
    desc = getattr(param, "type_descriptor", None)
    if desc is None or desc.is_choice or desc.is_tuple:
        return None
    annotation = desc.annotation
    element = get_args(annotation)[0] if desc.is_list and get_args(annotation) else annotation
    if desc.is_path or desc.is_file or element is Path:
        label = "PATH"
    elif element is int:
        label = "N"
    elif element is float:
        label = "NUMBER"
    elif desc.is_datetime:
        label = "DATETIME"
    else:
        label = "TEXT"
    return f"{label}..." if desc.is_list or getattr(param, "multiple", False) else label


def _readable_metavars(command: Any) -> None:
    """Name what an option takes, not its Python type (`<list[Path]>`); a flag, `--help`
    included, takes nothing, so it shows nothing. Arguments keep their names."""
    for param in command.params:
        if param.metavar is not None:
            continue
        if getattr(param, "param_type_name", "") == "option":
            param.metavar = _metavar(param)
        elif param.name:  # an argument: its name, in capitals as usage lines have them
            param.metavar = param.name.upper()
    original_help_option = command.get_help_option

    def help_option(ctx: Any) -> Any:
        option = original_help_option(ctx)
        if option is not None:
            option.metavar = ""
        return option

    command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        _readable_metavars(sub)


def build_cli() -> Any:
    """The click command of the whole CLI (the registered features, readable help)."""
    _register_features()
    command = typer.main.get_command(app)
    _readable_metavars(command)
    return command


def main() -> None:
    from dueprocess.composition.journal import wire

    quiet_prefect_services()
    wire()
    cli = build_cli()
    try:
        cli(prog_name="dueprocess")
    except SystemExit:
        raise
    except Exception as exc:
        _report(exc)


def _report(exc: Exception) -> None:
    """Turn an error meant for the user into a message and exit status 2; re-raise the rest."""
    from dueprocess.db import DatabaseUnavailable
    from models.procedure import ProcedureError

    if isinstance(exc, Refused):
        errors.print("[red]refused:[/]")
        for problem in exc.problems:
            errors.print(f"  - {problem}", markup=False)
        raise SystemExit(2) from None
    if isinstance(exc, DueProcessError | ProcedureError | DatabaseUnavailable):
        # The message may quote input (a file name, a field): never read it as markup.
        errors.print("[red]error:[/]", escape(str(exc)), highlight=False)
        raise SystemExit(2) from None
    missing = _schema_missing(exc)
    if missing:
        errors.print(f"[red]error:[/] {missing}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
    raise exc


def _schema_missing(exc: Exception) -> str | None:
    """Read commands do not migrate: a database without the current schema is named, with
    the command that fixes it."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    if not isinstance(exc, OperationalError | ProgrammingError):
        return None
    text = str(exc.orig).lower()
    if "no such table" in text or "no such column" in text or (
        "does not exist" in text and ("relation" in text or "column" in text)
    ):
        from sqlalchemy.engine import make_url

        from dueprocess.settings import get_settings

        url = make_url(get_settings().resolved_database_url).render_as_string(hide_password=True)
        return ("DUEPROCESS_DATABASE_URL: the case database has no schema, or an older one "
                f"({url}); run: dueprocess init")
    if isinstance(exc, OperationalError) and exc.connection_invalidated is False and (
        "connect" in text or "unable to open" in text
    ):  # the server is down or the file cannot be opened: name the setting, no traceback
        from sqlalchemy.engine import make_url

        from dueprocess.settings import get_settings

        url = make_url(get_settings().resolved_database_url).render_as_string(hide_password=True)
        return f"DUEPROCESS_DATABASE_URL: cannot reach the case database ({url}): {exc.orig}"
    return None
