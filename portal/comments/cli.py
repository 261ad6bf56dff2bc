"""Commands for comments at scale: `dueprocess comments import|clusters|seal …`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

comments_app = typer.Typer(help="Bulk comment uploads and mass-comment campaigns.",
                           no_args_is_help=True)


@comments_app.command("import")
def import_command(
    case_id: Annotated[str, typer.Argument(help="The case")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                         help="Comments as .jsonl or .csv (UTF-8)")],
    handle: Annotated[str, typer.Option("--as", help="The participation officer's handle")],
    token: Annotated[str | None, typer.Option(envvar="DUEPROCESS_TOKEN",
                                              help="Your API token, if you hold one")] = None,
    batch_size: Annotated[int, typer.Option(min=100, max=100_000)] = 10_000,
) -> None:
    """Upload comments received by other channels; the same file again stores nothing."""
    from dueprocess.cli_kit import working
    from portal.comments.upload import import_comments

    with file.open("rb") as stream, working(f"importing the comments of {file.name} …"):
        report = import_comments(case_id=case_id, stream=stream, filename=file.name,
                                 imported_by=handle, token=token, batch_size=batch_size)
    typer.echo(f"{report.lines} comments in {file.name} (sha256 {report.file_sha256[:16]}…): "
               f"{report.stored} stored in {report.batches} logged batches, "
               f"{report.already_stored} already stored; {report.seconds:.1f} s")


@comments_app.command("clusters")
def clusters_command(
    case_id: Annotated[str, typer.Argument(help="The case")],
    show: Annotated[int, typer.Option(help="List this many of the largest clusters")] = 10,
) -> None:
    """Find mass-comment campaigns (exact and near-duplicate copies) and store them."""
    from dueprocess.db import session_scope
    from portal.comments.clusters import campaign_counts, cluster_case_comments

    summary = cluster_case_comments(case_id=case_id)
    with session_scope() as session:
        counts = campaign_counts(session, case_id=case_id, largest=show)
    typer.echo(f"{summary.comments} comments clustered in {summary.seconds:.1f} s")
    typer.echo(counts.statement)
    for cluster in counts.clusters:
        typer.echo(f"  {cluster.key}: {cluster.size} copies — {cluster.sample[:60]}")


@comments_app.command("attribution")
def attribution_command(
    report_id: Annotated[int, typer.Argument(min=1, help="The attribution report's number")],
    outcome: Annotated[str, typer.Argument(help="upheld (the person named did not send it) "
                                                "or rejected")],
    reason: Annotated[str, typer.Option(help="The reasons, shown with the comment")],
    handle: Annotated[str, typer.Option("--as", help="Your handle (an official)")],
    token: Annotated[str | None, typer.Option(envvar="DUEPROCESS_TOKEN",
                                              help="Your API token, if you hold one")] = None,
) -> None:
    """Decide a report that a comment was sent in someone else's name (ACUS 2021-1)."""
    from portal.comments.attribution import decide_misattribution

    decision = decide_misattribution(report_id=report_id, outcome=outcome, reason=reason,
                                     decided_by=handle, token=token)
    typer.echo(f"Attribution report #{report_id}: {decision.outcome}, logged")


def register(app: typer.Typer) -> None:
    """Add the `comments` command group to the CLI."""
    app.add_typer(comments_app, name="comments")
