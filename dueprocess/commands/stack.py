"""Stack commands: prepare the case database, start the embedded stack, keep cases driven.

    dueprocess init       create or migrate the case database (read commands never do)
    dueprocess up         Prefect server, served deployments with triggers, portal
    dueprocess down       stop the stack of the data directory, also one a killed `up` left
    dueprocess recover    wake, restart or replace the flow runs of open cases
    dueprocess portal     serve the public portal alone
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from dueprocess.cli_kit import working
from dueprocess.commands.console import console
from dueprocess.errors import DueProcessError


def init_command() -> None:
    """Create the case database, or bring its schema up to date (idempotent)."""
    from sqlalchemy.engine import make_url

    from dueprocess.db import migrate
    from dueprocess.settings import get_settings

    url = make_url(get_settings().resolved_database_url).render_as_string(hide_password=True)
    with working(f"migrating the case database {url} …"):
        migrate()
    console.print(f"The case database is ready: {url}", highlight=False, soft_wrap=True)


def up_command(
    port: Annotated[int | None, typer.Option(help="Prefect server port (DUEPROCESS_UI_PORT)")]
    = None,
    host: Annotated[str | None, typer.Option(help="Bind address (DUEPROCESS_UI_HOST)")] = None,
    portal: Annotated[bool, typer.Option(help="Start the public portal if installed")] = True,
) -> None:
    """Start everything: Prefect server, served deployments with triggers, portal."""
    from dueprocess.stack.up import run_up

    run_up(console, host=host, port=port, with_portal=portal)


def down_command(
    timeout: Annotated[float, typer.Option(
        min=1, help="Seconds a running `up` is given to stop its stack")] = 180,
) -> None:
    """Stop the stack of DUEPROCESS_DATA_DIR: a running `up`, or what a killed one left."""
    from dueprocess.settings import get_settings
    from dueprocess.stack.down import run_down

    run_down(console, data_dir=get_settings().data_dir, timeout=timeout)


def recover_command(
    case_id: Annotated[str | None, typer.Argument(help="Case id; default: every open case")]
    = None,
    restart: Annotated[bool, typer.Option(
        help="Also restart a cancelled run, or one that used up its attempts")] = False,
) -> None:
    """Make sure open cases are driven: wake, restart or replace their flow runs."""
    from dueprocess.commands.console import prefect_api_problem, ready

    if not os.environ.get("PREFECT_API_URL"):
        raise DueProcessError("PREFECT_API_URL: not set; point it at the Prefect server "
                              "(`dueprocess up` prints it)")
    problem = prefect_api_problem(timeout=10)
    if problem:
        raise DueProcessError(problem)
    ready()
    from dueprocess.orchestration.recovery import recover_case, recover_open_cases

    with working("checking the flow runs of open cases …"):
        done: list[tuple[str, str]] = (
            [(case_id, recover_case(case_id, restart=restart))] if case_id
            else recover_open_cases()
        )
    for case, action in done:
        console.print(f"case {case}: {action}", highlight=False)


def portal_command(
    host: Annotated[str | None, typer.Option(help="Default DUEPROCESS_PORTAL_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="Default DUEPROCESS_PORTAL_PORT")] = None,
) -> None:
    """Serve the public portal: case pages, comments, subscriptions, Atom feed, JSON API."""
    import uvicorn

    from dueprocess.composition.portal import create_app
    from dueprocess.db import migrate
    from dueprocess.settings import get_portal_settings
    from portal.app import server_config

    settings = get_portal_settings()
    migrate()
    uvicorn.Server(server_config(create_app(settings), host=host or settings.portal_host,
                                 port=port or settings.portal_port)).run()


def register(app: typer.Typer) -> None:
    """Add the stack commands to the CLI."""
    app.command("init")(init_command)
    app.command("up")(up_command)
    app.command("down")(down_command)
    app.command("recover")(recover_command)
    app.command("portal")(portal_command)
