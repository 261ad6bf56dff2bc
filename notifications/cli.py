"""`dueprocess notices …`: deliver the queue, announce hearings and progress, and list
notices, channels and subscribers (URLs in privacy form only)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import col, func, select

from dueprocess.cli_kit import console
from dueprocess.errors import DueProcessError

notices_app = typer.Typer(help=__doc__, no_args_is_help=True)
# Wide enough for the tables when output is piped (rich assumes 80 columns).


def _ready() -> None:
    from dueprocess.db import migrate

    migrate()


@notices_app.command("deliver")
def deliver_command(
    max_batches: Annotated[int | None, typer.Option(help="Stop after this many batches")] = None,
    processes: Annotated[int, typer.Option(
        min=1, max=64, help="Sending processes sharing the queue (one per spare core)")] = 1,
) -> None:
    """Deliver due notices now (the deliver-notices flow does this on a schedule)."""
    from notifications.delivery import deliver_in_processes

    _ready()
    report = deliver_in_processes(processes, max_batches=max_batches)
    console.print(f"fanned out {report.fanned_out}, delivered {report.delivered}, "
                  f"retrying {report.retrying}, failed {report.failed}, "
                  f"skipped {report.skipped}")
    for error in report.errors:
        console.print(f"  [red]{error}[/]", markup=True, highlight=False)


@notices_app.command("list")
def list_command(case_id: Annotated[str | None, typer.Argument(help="Case id")] = None) -> None:
    """Notices with the state of their deliveries."""
    from dueprocess.db import session_scope
    from models.notices import Notice, NoticeDelivery

    _ready()
    table = Table(title="Notices")
    for column in ("#", "Case", "Kind", "Subject", "Queued", "Delivered", "Pending", "Failed"):
        table.add_column(column)
    with session_scope() as session:
        query = select(Notice).order_by(col(Notice.id))
        if case_id:
            query = query.where(Notice.case_id == case_id)
        for notice in session.exec(query):
            counts = dict(session.exec(
                select(NoticeDelivery.status, func.count())
                .where(NoticeDelivery.notice_id == notice.id).group_by(NoticeDelivery.status)
            ).all())
            table.add_row(str(notice.id), notice.case_id, notice.kind, notice.subject[:60],
                          f"{notice.created_at:%Y-%m-%d %H:%M}", str(counts.get("delivered", 0)),
                          str(counts.get("pending", 0) + counts.get("sending", 0)),
                          str(counts.get("failed", 0)))
    console.print(table)


@notices_app.command("hearing")
def hearing_command(
    case_id: Annotated[str, typer.Argument(help="Case id")],
    file: Annotated[Path, typer.Argument(help="Hearing file (YAML or JSON): held_on, place, "
                                               "selection_method, participants[name, contact]")],
    actor: Annotated[str, typer.Option("--as", help="Your handle (the participation officer)")],
    token: Annotated[str | None, typer.Option(
        envvar="DUEPROCESS_TOKEN", help="Your API token (default: DUEPROCESS_TOKEN)",
        show_default=False)] = None,
) -> None:
    """Announce a hearing (Art. 16): published to the public, its materials delivered to
    each participant's channel; the delivery records are what the hearing gate checks."""
    import yaml

    from dueprocess.services.payloads import load_yaml
    from notifications.hearings import announce_hearing_as, read_hearing

    try:
        data = load_yaml(file.read_text(encoding="utf-8"), field=f"hearing file {file}")
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DueProcessError(f"hearing file {file}: {exc}") from None
    _ready()
    hearing = announce_hearing_as(case_id=case_id, request=read_hearing(data), actor=actor,
                                  token=token, channel="cli")
    console.print(f"Hearing #{hearing.id} of {case_id} on {hearing.held_on} announced; its "
                  f"materials go to {len(hearing.participants)} participant(s) with the next "
                  "delivery (`dueprocess notices deliver`)")


@notices_app.command("progress")
def progress_command(
    case_id: Annotated[str, typer.Argument(help="Case id")],
    reported_by: Annotated[str, typer.Option(help="Executing unit")],
    actor: Annotated[str, typer.Option("--as", help="Your handle")],
    text: Annotated[str | None, typer.Option(help="Progress report text")] = None,
    file: Annotated[Path | None, typer.Option(help="Text file with the report")] = None,
    percent: Annotated[int | None, typer.Option(help="Share done, 0-100")] = None,
    as_of: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default today")] = None,
    token: Annotated[str | None, typer.Option(
        envvar="DUEPROCESS_TOKEN", help="Your API token (default: DUEPROCESS_TOKEN)",
        show_default=False)] = None,
) -> None:
    """Publish an implementation progress update (Art. 34-35)."""
    from notifications.announcements import announce_progress_as

    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DueProcessError(f"--file {file}: {exc}") from None
    _ready()
    notice = announce_progress_as(case_id=case_id, data={
        "text": text or "", "percent": percent, "reported_by": reported_by,
        "as_of": as_of or date.today().isoformat(),
    }, actor=actor, token=token, channel="cli")
    console.print(f"Queued notice #{notice.id}: {notice.subject}")


@notices_app.command("channels")
def channels_command() -> None:
    """Operator channels from the Apprise configuration, in privacy form."""
    from dueprocess.settings import get_notify_settings
    from notifications.transport.channels import config_channels

    path = get_notify_settings().apprise_config_path
    console.print(f"Apprise configuration: {path or 'none (set DUEPROCESS_APPRISE_CONFIG)'}")
    for channel in config_channels(path):
        console.print(f"  {channel.privacy}  tags: {', '.join(sorted(channel.tags))}",
                      markup=False)


@notices_app.command("subscribers")
def subscribers_command() -> None:
    """Public subscribers, in privacy form."""
    from dueprocess.db import session_scope
    from notifications.subscriptions import list_subscribers

    _ready()
    table = Table(title="Subscribers")
    for column in ("#", "Channel (privacy form)", "Tags", "Status"):
        table.add_column(column)
    with session_scope() as session:
        for row in list_subscribers(session):
            table.add_row(str(row.id), row.privacy_url, ", ".join(row.tags), row.status)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(notices_app, name="notices")
