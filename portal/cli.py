"""Commands of this feature for the `dueprocess` CLI: `portal` serves the public pages,
`notices …` manages notices and their delivery."""

from __future__ import annotations

from typing import Annotated

import typer


def portal_command(
    host: Annotated[str | None, typer.Option(help="Default DUEPROCESS_PORTAL_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="Default DUEPROCESS_PORTAL_PORT")] = None,
) -> None:
    """Serve the public portal: case pages, comments, subscriptions, Atom feed, JSON API."""
    import uvicorn

    from dueprocess.db import migrate
    from portal.app import create_app, server_config
    from dueprocess.web.settings import get_portal_settings

    settings = get_portal_settings()
    migrate()
    uvicorn.Server(server_config(create_app(settings), host=host or settings.portal_host,
                                 port=port or settings.portal_port)).run()


def register(app: typer.Typer) -> None:
    """Add this feature's commands to the CLI."""
    from notifications.cli import register as register_notices

    app.command("portal")(portal_command)
    register_notices(app)
