"""`dueprocess implementation …`: after the decision (Art. 34–37), for every decided case:
items, milestones, progress, supervision and the yearly report; evaluation after the
decision and adjustment or stop through the procedure again."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dueprocess.cli_kit import (
    CHANNEL,
    Actor,
    CaseFile,
    Token,
    console,
    read_file,
    read_mapping,
    ready,
    validated,
)

implementation_app = typer.Typer(help=__doc__, no_args_is_help=True)
@implementation_app.command("evaluate")
def evaluate_command(case_id: str, file: CaseFile, token: Token = None) -> None:
    """Open the evaluation after the decision of CASE_ID (Art. 36): its draft is the
    decision; the case file names the evaluating unit's people and the rest."""
    from implementation.follow_up import open_evaluation_as

    data = read_mapping(file)
    ready()
    case = open_evaluation_as(case_id=case_id, case_file=data, token=token, channel=CHANNEL)
    console.print(f"Opened case {case.id}: {case.title}", markup=False, highlight=False)


@implementation_app.command("adjust")
def adjust_command(
    case_id: str, file: CaseFile,
    stop: Annotated[bool, typer.Option("--stop", help="Stop the decision, not adjust it")]
    = False,
    token: Token = None,
) -> None:
    """Open the adjustment (or the stop) of CASE_ID's decision through the whole Decree 713
    procedure again (Art. 37); the case file brings the new draft."""
    from implementation.follow_up import open_adjustment_as
    from models.follow_up import FollowUpKind

    data = read_mapping(file)
    ready()
    kind = FollowUpKind.STOP if stop else FollowUpKind.ADJUSTMENT
    case = open_adjustment_as(case_id=case_id, kind=kind, case_file=data, token=token,
                              channel=CHANNEL)
    console.print(f"Opened case {case.id}: {case.title}", markup=False, highlight=False)


@implementation_app.command("follow-ups")
def follow_ups_command(case_id: str) -> None:
    """A decision's standing, its evaluations and adjustments, and residents' requests."""
    from implementation.evaluation_due import after_decision

    ready()
    shown = after_decision(case_id)
    kind, by = shown.standing
    console.print(f"Decision of {case_id}: {shown.decision.outcome}, "
                  f"{shown.decision.decided_on}; {kind}" + (f" by {by}" if by else ""),
                  markup=False, highlight=False)
    for f in shown.follow_ups:
        console.print(f"  {f.case_id}: {f.kind} ({f.started_by}), {f.status}"
                      + (f", {f.outcome}" if f.outcome else ""), markup=False,
                      highlight=False)
    console.print(f"Residents' requests for an evaluation: {shown.requests}"
                  + (f"; evaluation due ({shown.due.reason})" if shown.due else ""),
                  markup=False, highlight=False)


@implementation_app.command("evaluations-due")
def evaluations_due_command() -> None:
    """Mark the major decisions whose evaluation fell due on the schedule (the deadline
    watchdog runs this); the officials are told."""
    from implementation.evaluation_due import mark_due_evaluations

    ready()
    rows = mark_due_evaluations()
    for row in rows:
        console.print(f"Evaluation due: {row.case_id}", markup=False, highlight=False)
    console.print(f"{len(rows)} evaluation(s) fell due")


@implementation_app.command("item-add")
def item_add_command(
    file: Annotated[Path, typer.Argument(help="Item (YAML/JSON): case_id, title, department, "
                                              "level, street, proposal_id")],
    actor: Actor, token: Token = None,
) -> None:
    """Register an implementation item of a decided case (Art. 34)."""
    from implementation.items import register_item_as
    from models.implementation import ItemCreate

    request = validated(ItemCreate, read_file(file), file)
    ready()
    item = register_item_as(request=request, actor=actor, token=token, channel=CHANNEL)
    console.print(f"Item #{item.id} registered for {item.case_id}: {item.department}")


@implementation_app.command("milestone")
def milestone_command(
    item_id: int, file: Annotated[Path, typer.Argument(help="Milestone (YAML/JSON): title, "
                                                           "due_on")],
    actor: Actor, token: Token = None,
) -> None:
    """Set a milestone of an implementation item."""
    from implementation.items import add_milestone_as
    from models.implementation import MilestoneCreate

    request = validated(MilestoneCreate, read_file(file), file)
    ready()
    milestone = add_milestone_as(item_id=item_id, request=request, actor=actor, token=token,
                                 channel=CHANNEL)
    console.print(f"Milestone #{milestone.id} of item #{item_id} due {milestone.due_on}")


@implementation_app.command("progress")
def progress_command(
    item_id: int, file: Annotated[Path, typer.Argument(
        help="Progress (YAML/JSON): text, percent, evidence, completes_milestone")],
    actor: Actor, token: Token = None,
) -> None:
    """Record progress of an item, with its evidence (members of its department)."""
    from implementation.items import record_progress_as
    from models.implementation import ProgressUpdateCreate

    request = validated(ProgressUpdateCreate, read_file(file), file)
    ready()
    update = record_progress_as(item_id=item_id, request=request, actor=actor, token=token,
                                channel=CHANNEL)
    console.print(f"Progress #{update.id} of item #{item_id}: {update.percent}% on "
                  f"{update.recorded_on}")


@implementation_app.command("item")
def item_command(item_id: int) -> None:
    """Show an item's milestones and progress."""
    from implementation.items import item_view

    ready()
    view = item_view(item_id)
    console.print(f"Item #{item_id}: {view.item.title} ({view.item.department}, "
                  f"{view.percent}% as of {view.today})", markup=False, highlight=False)
    table = Table()
    for column in ("#", "milestone", "due", "status"):
        table.add_column(column)
    for shown in view.milestones:
        table.add_row(str(shown.milestone.id), shown.milestone.title,
                      str(shown.milestone.due_on), shown.status(view.today))
    console.print(table)


@implementation_app.command("supervise")
def supervise_command() -> None:
    """Escalate overdue milestones now (the deadline watchdog does it on its schedule)."""
    from implementation.supervision import supervise_overdue

    ready()
    records = supervise_overdue()
    for record in records:
        console.print(f"Milestone #{record.milestone_id} of item #{record.item_id} was due "
                      f"{record.due_on}: escalated to {record.department}")
    console.print(f"{len(records)} overdue milestone(s) escalated")


@implementation_app.command("report")
def report_command(
    year: Annotated[int, typer.Option(help="Milestones due in this year")],
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Also write the CSV here")]
    = None,
) -> None:
    """The supervision report: milestones per department, filing of normative documents,
    replies to judicial and procuratorial recommendations."""
    from implementation.filing_report import filing_figures
    from implementation.reply_report import reply_figures
    from implementation.report import department_figures, report_csv

    ready()
    figures = department_figures(year=year)
    table = Table(title=f"Supervision report {year}")
    for column in ("department", "items", "milestones", "on time", "late", "overdue",
                   "not yet due", "escalated", "completed %", "on time %"):
        table.add_column(column)
    for f in figures:
        table.add_row(f.department, *(str(v) if v is not None else "-" for v in (
            f.items, f.milestones, f.done_on_time, f.done_late, f.overdue, f.not_yet_due,
            f.escalated, f.completed_percent, f.on_time_percent)))
    console.print(table)
    filing = Table(title=f"Normative documents: filing {year}")
    for column in ("undertaking unit", "published", "filed", "on time", "overdue",
                   "legality reviews", "filing rate %", "on time %"):
        filing.add_column(column)
    for g in filing_figures(year=year):
        filing.add_row(g.unit, *(str(v) if v is not None else "-" for v in (
            g.published, g.filed, g.filed_on_time, g.overdue, g.legality_reviews,
            g.filing_rate_percent, g.on_time_percent)))
    console.print(filing)
    replies = Table(title=f"Judicial and procuratorial recommendations: replies {year}")
    for column in ("department", "received", "replied", "on time", "overdue",
                   "reply rate %", "on time %"):
        replies.add_column(column)
    for r in reply_figures(year=year):
        replies.add_row(r.department, *(str(v) if v is not None else "-" for v in (
            r.received, r.replied, r.replied_on_time, r.overdue, r.reply_rate_percent,
            r.on_time_percent)))
    console.print(replies)
    if csv_file is not None:
        csv_file.write_text(report_csv(figures), encoding="utf-8")
        console.print(f"CSV written to {csv_file}")


def register(app: typer.Typer) -> None:
    app.add_typer(implementation_app, name="implementation")
