"""Stack commands: start the embedded stack, and keep every open case driven.

    dueprocess up         Prefect server, served deployments with triggers, portal
    dueprocess recover    wake, restart or replace the flow runs of open cases
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.console import Console

from dueprocess.errors import DueProcessError
from dueprocess.stack.processes import check_prefect_api
from dueprocess.stack.up import run_up


def up_command(
    port: Annotated[int | None, typer.Option(help="Prefect server port (DUEPROCESS_UI_PORT)")]
    = None,
    host: Annotated[str | None, typer.Option(help="Bind address (DUEPROCESS_UI_HOST)")] = None,
    portal: Annotated[bool, typer.Option(help="Start the public portal if installed")] = True,
) -> None:
    """Start everything: Prefect server, served deployments with triggers, portal."""
    run_up(Console(), host=host, port=port, with_portal=portal)


def recover_command(
    case_id: Annotated[str | None, typer.Argument(help="Case id; default: every open case")]
    = None,
    restart: Annotated[bool, typer.Option(
        help="Also restart a cancelled run, or one that used up its attempts")] = False,
) -> None:
    """Make sure open cases are driven: wake, restart or replace their flow runs."""
    from dueprocess.db import migrate
    from dueprocess.orchestration.events import prefect_api_configured
    from dueprocess.orchestration.recovery import recover_case, recover_open_cases

    if not prefect_api_configured():
        raise DueProcessError("PREFECT_API_URL: not set; point it at the Prefect server "
                              "(`dueprocess up` prints it)")
    check_prefect_api(os.environ.get("PREFECT_API_URL") or _api_url_from_profile())
    migrate()
    console = Console()
    done: list[tuple[str, str]] = (
        [(case_id, recover_case(case_id, restart=restart))] if case_id
        else recover_open_cases()
    )
    for case, action in done:
        console.print(f"case {case}: {action}")


def _api_url_from_profile() -> str:
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())


def register(app: typer.Typer) -> None:
    """Add the stack commands to the CLI."""
    app.command("up")(up_command)
    app.command("recover")(recover_command)
