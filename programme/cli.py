"""`dueprocess programme …`: proposals, moderation, ballots, votes and the recount;
implementation items, milestones, progress and supervision."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

programme_app = typer.Typer(help=__doc__, no_args_is_help=True)
console = Console(width=None if sys.stdout.isatty() else 140)
CHANNEL = "cli"
Actor = Annotated[str, typer.Option("--as", help="Your handle")]
Token = Annotated[str | None, typer.Option(
    envvar="DUEPROCESS_TOKEN", help="Your API token (default: DUEPROCESS_TOKEN)",
    show_default=False)]
Choices = Annotated[list[int], typer.Option("--choice", help="A proposal id; repeat")]


def _ready() -> None:
    from dueprocess.db import migrate

    migrate()


def _file(path: Path) -> Any:
    import yaml

    from dueprocess.errors import DueProcessError
    from dueprocess.services.payloads import load_yaml

    try:
        return load_yaml(path.read_text(encoding="utf-8"), field=f"file {path}")
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DueProcessError(f"{path}: {exc}") from None


def _mapping(path: Path) -> dict[str, Any]:
    from dueprocess.errors import DueProcessError

    data = _file(path)
    if not isinstance(data, dict):
        raise DueProcessError(f"{path}: expected a mapping of fields at the top")
    return data


def _validated(model: Any, data: Any, source: Path) -> Any:
    from pydantic import ValidationError

    from dueprocess.errors import DueProcessError, schema_problems

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = schema_problems(exc.errors())  # type: ignore[arg-type]
        raise DueProcessError(f"{source}: " + "; ".join(p.message for p in problems)) from None


@programme_app.command("propose")
def propose_command(file: Annotated[Path, typer.Argument(help="Proposal (YAML/JSON)")]) -> None:
    """Submit a proposal (the portal's "我要提实事" form does the same)."""
    from models.programme import ProposalCreate
    from programme.proposals import submit_proposal

    request = _validated(ProposalCreate, _file(file), file)
    _ready()
    proposal = submit_proposal(request=request, client="cli")
    console.print(f"Proposal #{proposal.id} received: receipt {proposal.receipt_number}")


@programme_app.command("proposals")
def proposals_command(year: Annotated[int, typer.Option(help="Programme year")]) -> None:
    """List a year's proposals with their published moderation marks."""
    from programme.proposals import proposals_of_year

    _ready()
    table = Table(title=f"Proposals {year}")
    for column in ("#", "receipt", "level", "category", "place", "mark"):
        table.add_column(column)
    for shown in proposals_of_year(year=year, limit=10_000):
        p, mark = shown.proposal, shown.mark
        table.add_row(str(p.id), p.receipt_number, p.street or p.level, p.category, p.place,
                      f"{mark.kind}: {mark.reason}" if mark else "")
    console.print(table)


@programme_app.command("mark")
def mark_command(
    proposal_id: int, actor: Actor,
    kind: Annotated[str, typer.Option(help="merged or refused")],
    reason: Annotated[str, typer.Option(help="Published with the mark")],
    into: Annotated[int | None, typer.Option(help="For a merge: the proposal kept")] = None,
    token: Token = None,
) -> None:
    """Moderate a proposal: merge a duplicate or refuse one out of scope (never deleted)."""
    from models.programme import MarkCreate
    from programme.proposals import moderate_as

    mark = _validated(MarkCreate, {"kind": kind, "reason": reason, "merged_into": into},
                      Path("--kind/--reason/--into"))
    _ready()
    moderate_as(proposal_id=proposal_id, mark=mark, actor=actor, token=token, channel=CHANNEL)
    console.print(f"Proposal #{proposal_id} marked {kind}; the reason is published")


@programme_app.command("ballot-open")
def ballot_open_command(
    file: Annotated[Path, typer.Argument(help="Ballot (YAML/JSON): year, title, roll, "
                                              "choose_up_to, opens_at, closes_at, options")],
    actor: Actor, token: Token = None,
) -> None:
    """Open a ballot on a shortlist of proposals."""
    from models.programme import BallotCreate
    from programme.ballots import open_ballot_as

    request = _validated(BallotCreate, _file(file), file)
    _ready()
    ballot = open_ballot_as(request=request, actor=actor, token=token, channel=CHANNEL)
    console.print(f"Ballot #{ballot.id} opened: {len(ballot.options)} options, choose up to "
                  f"{ballot.choose_up_to}, {ballot.opens_at:%Y-%m-%d %H:%M} to "
                  f"{ballot.closes_at:%Y-%m-%d %H:%M} UTC")


@programme_app.command("send-code")
def send_code_command(
    ballot_id: int, url: Annotated[str, typer.Argument(help="Your Apprise URL")],
) -> None:
    """Send a one-time voting code to your channel (public roll)."""
    from programme.ballots import send_code

    _ready()
    console.print(f"Code sent to {send_code(ballot_id=ballot_id, channel_url=url)}")


@programme_app.command("vote")
def vote_command(
    ballot_id: int, choice: Choices,
    code: Annotated[str, typer.Option(help="The code sent to your channel")],
) -> None:
    """Vote on a public ballot with your one-time code."""
    from programme.ballots import cast_public_vote

    _ready()
    vote = cast_public_vote(ballot_id=ballot_id, code=code, choices=choice)
    console.print(f"Vote #{vote.id} recorded for {', '.join(f'#{c}' for c in vote.choices)}")


@programme_app.command("vote-expert")
def vote_expert_command(ballot_id: int, choice: Choices, actor: Actor,
                        token: Token = None) -> None:
    """Vote on an expert ballot with your API token."""
    from programme.ballots import cast_expert_vote

    _ready()
    vote = cast_expert_vote(ballot_id=ballot_id, choices=choice, actor=actor, token=token,
                            channel=CHANNEL)
    console.print(f"Vote #{vote.id} recorded for {', '.join(f'#{c}' for c in vote.choices)}")


@programme_app.command("ballot-close")
def ballot_close_command(ballot_id: int, actor: Actor, token: Token = None) -> None:
    """Close a ballot after its window; its tally closes the ballot's log chain."""
    from programme.ballots import close_ballot_as

    _ready()
    tally = close_ballot_as(ballot_id=ballot_id, actor=actor, token=token, channel=CHANNEL)
    for option, count in sorted(tally.items(), key=lambda kv: -kv[1]):
        console.print(f"  proposal #{option}: {count}")


@programme_app.command("export-ballot")
def export_ballot_command(ballot_id: int, directory: Path) -> None:
    """Export a closed ballot as a dossier anyone can recount offline."""
    from dueprocess.ledger import export_dossier
    from models.programme import ballot_chain

    _ready()
    report = export_dossier(ballot_chain(ballot_id), directory, of_case=False)
    console.print(f"Ballot #{ballot_id}: {len(report.items)} records written to {directory}")


@programme_app.command("recount")
def recount_command(
    directory: Path,
    trusted_key: Annotated[Path, typer.Option(help="The log's published public key (PEM)")],
) -> None:
    """Recount an exported ballot offline and check every vote against the signed log."""
    from dueprocess.errors import DueProcessError
    from ledger import DossierError
    from programme.recount import RecountError, recount

    try:
        result = recount(directory, trusted_public_key_pem=trusted_key.read_bytes())
    except (DossierError, RecountError, OSError) as exc:
        raise DueProcessError(f"{directory}: {exc}") from None
    console.print(result.summary(), markup=False, highlight=False)


CaseFile = Annotated[Path, typer.Argument(
    help="Case file (YAML/JSON) without title and draft: organ, people, assignments, …")]


@programme_app.command("list-open")
def list_open_command(
    ballot_id: int, file: CaseFile,
    size: Annotated[int, typer.Option(help="How many matters, by votes")],
    token: Token = None,
) -> None:
    """Open the year's list case from a closed ballot: its draft is the shortlist."""
    from programme.list_case import open_list_case_as

    data = _mapping(file)
    _ready()
    case = open_list_case_as(ballot_id=ballot_id, list_size=size, case_file=data,
                             token=token, channel=CHANNEL)
    console.print(f"Opened case {case.id}: {case.title}", markup=False, highlight=False)


@programme_app.command("list-revise")
def list_revise_command(
    case_id: str, file: CaseFile,
    add: Annotated[list[int] | None, typer.Option(help="A proposal to add; repeat")] = None,
    remove: Annotated[list[int] | None, typer.Option(help="A proposal to remove; repeat")]
    = None,
    token: Token = None,
) -> None:
    """Revise a decided list: a new list case, decided through the procedure again."""
    from programme.list_case import revise_list_as

    data = _mapping(file)
    _ready()
    case = revise_list_as(case_id=case_id, add=add or [], remove=remove or [],
                          case_file=data, token=token, channel=CHANNEL)
    console.print(f"Opened case {case.id}: {case.title}", markup=False, highlight=False)


@programme_app.command("evaluate")
def evaluate_command(case_id: str, file: CaseFile, token: Token = None) -> None:
    """Open the evaluation after the decision of CASE_ID (Art. 36): its draft is the
    decision; the case file names the evaluating unit's people and the rest."""
    from implementation.follow_up import open_evaluation_as

    data = _mapping(file)
    _ready()
    case = open_evaluation_as(case_id=case_id, case_file=data, token=token, channel=CHANNEL)
    console.print(f"Opened case {case.id}: {case.title}", markup=False, highlight=False)


@programme_app.command("adjust")
def adjust_command(
    case_id: str, file: CaseFile,
    stop: Annotated[bool, typer.Option("--stop", help="Stop the decision, not adjust it")]
    = False,
    token: Token = None,
) -> None:
    """Open the adjustment (or the stop) of CASE_ID's decision through the whole Decree 713
    procedure again (Art. 37); the case file brings the new draft."""
    from models.follow_up import FollowUpKind
    from implementation.follow_up import open_adjustment_as

    data = _mapping(file)
    _ready()
    kind = FollowUpKind.STOP if stop else FollowUpKind.ADJUSTMENT
    case = open_adjustment_as(case_id=case_id, kind=kind, case_file=data, token=token,
                              channel=CHANNEL)
    console.print(f"Opened case {case.id}: {case.title}", markup=False, highlight=False)


@programme_app.command("follow-ups")
def follow_ups_command(case_id: str) -> None:
    """A decision's standing, its evaluations and adjustments, and residents' requests."""
    from implementation.evaluation_due import after_decision

    _ready()
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


@programme_app.command("evaluations-due")
def evaluations_due_command() -> None:
    """Mark the major decisions whose evaluation fell due on the schedule (the deadline
    watchdog runs this); the officials are told."""
    from implementation.evaluation_due import mark_due_evaluations

    _ready()
    rows = mark_due_evaluations()
    for row in rows:
        console.print(f"Evaluation due: {row.case_id}", markup=False, highlight=False)
    console.print(f"{len(rows)} evaluation(s) fell due")


@programme_app.command("item-add")
def item_add_command(
    file: Annotated[Path, typer.Argument(help="Item (YAML/JSON): case_id, title, department, "
                                              "level, street, proposal_id")],
    actor: Actor, token: Token = None,
) -> None:
    """Register an implementation item of a decided case (Art. 34)."""
    from models.implementation import ItemCreate
    from implementation.items import register_item_as

    request = _validated(ItemCreate, _file(file), file)
    _ready()
    item = register_item_as(request=request, actor=actor, token=token, channel=CHANNEL)
    console.print(f"Item #{item.id} registered for {item.case_id}: {item.department}")


@programme_app.command("milestone")
def milestone_command(
    item_id: int, file: Annotated[Path, typer.Argument(help="Milestone (YAML/JSON): title, "
                                                           "due_on")],
    actor: Actor, token: Token = None,
) -> None:
    """Set a milestone of an implementation item."""
    from models.implementation import MilestoneCreate
    from implementation.items import add_milestone_as

    request = _validated(MilestoneCreate, _file(file), file)
    _ready()
    milestone = add_milestone_as(item_id=item_id, request=request, actor=actor, token=token,
                                 channel=CHANNEL)
    console.print(f"Milestone #{milestone.id} of item #{item_id} due {milestone.due_on}")


@programme_app.command("progress")
def progress_command(
    item_id: int, file: Annotated[Path, typer.Argument(
        help="Progress (YAML/JSON): text, percent, evidence, completes_milestone")],
    actor: Actor, token: Token = None,
) -> None:
    """Record progress of an item, with its evidence (members of its department)."""
    from models.implementation import ProgressUpdateCreate
    from implementation.items import record_progress_as

    request = _validated(ProgressUpdateCreate, _file(file), file)
    _ready()
    update = record_progress_as(item_id=item_id, request=request, actor=actor, token=token,
                                channel=CHANNEL)
    console.print(f"Progress #{update.id} of item #{item_id}: {update.percent}% on "
                  f"{update.recorded_on}")


@programme_app.command("item")
def item_command(item_id: int) -> None:
    """Show an item's milestones and progress."""
    from implementation.items import item_view

    _ready()
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


@programme_app.command("supervise")
def supervise_command() -> None:
    """Escalate overdue milestones now (the deadline watchdog does it on its schedule)."""
    from implementation.supervision import supervise_overdue

    _ready()
    records = supervise_overdue()
    for record in records:
        console.print(f"Milestone #{record.milestone_id} of item #{record.item_id} was due "
                      f"{record.due_on}: escalated to {record.department}")
    console.print(f"{len(records)} overdue milestone(s) escalated")


@programme_app.command("report")
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

    _ready()
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
    app.add_typer(programme_app, name="programme")
