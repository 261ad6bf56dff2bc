"""Terminal rendering of cases and stages for the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from models.stages import StageStatus

if TYPE_CHECKING:  # `cases` must not import the rules to print a list
    from dueprocess.services.case_view import CaseView
    from models.cases import DecisionCase

STATUS_STYLE = {
    StageStatus.COMPLETED: "green", StageStatus.OPEN: "yellow", StageStatus.PENDING: "dim",
}


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _witnessed(opened: datetime | None, completed: datetime | None) -> str:
    """When dueprocess saw the stage open and complete (its own records, not typed dates)."""
    lines = [f"opened {_when(opened)}" if opened else "", f"done {_when(completed)}"
             if completed else ""]
    return "\n".join(line for line in lines if line)


def cases_table(cases: list[DecisionCase]) -> Table:
    table = Table(title="Decision cases")
    for column in ("Case", "Title", "Procedure", "Status", "Opened"):
        table.add_column(column)
    for case in cases:
        table.add_row(case.id, case.title, case.procedure_id, case.status.value,
                      _when(case.opened_at))
    return table


def stage_table(view: CaseView) -> Table:
    title = f"{view.case.id}: {view.case.title} [{view.case.status.value}]"
    if view.simulated:  # never mistaken for a real case's record
        title += f"\nSIMULATED TIME: case time {_when(view.now)} UTC"
    table = Table(title=title, show_lines=True)
    table.add_column("Stage", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Witnessed (UTC)", no_wrap=True)
    table.add_column("Items", justify="right")
    table.add_column("Blocked because", ratio=1)
    for stage in view.stages:
        table.add_row(
            f"{stage.key}\n[dim]{stage.articles}[/]",
            f"[{STATUS_STYLE[stage.status]}]{stage.status.value}[/]",
            _witnessed(stage.opened_at, stage.completed_at), str(stage.evidence_count),
            "\n".join(str(u) for u in stage.blocked),
        )
    return table


def print_case(console: Console, view: CaseView) -> None:
    console.print(stage_table(view))
    if view.decision:
        d = view.decision
        console.print(f"Decision: [bold]{d.outcome}[/] by {d.decided_by} on {d.decided_on} "
                      f"(decision #{d.id}, from evidence #{d.evidence_id}): {d.text}")
    if view.waiting:
        console.print(f"Waiting at gate '{view.waiting.key}' in flow run "
                      f"{view.waiting.flow_run_id} for: {', '.join(view.waiting.stage_keys)}")
    for refusal in view.refusals:
        reasons = "; ".join(f"[{r['rule']}] {r['message']}" for r in refusal.reasons)
        console.print(f"[red]Refused[/] {_when(refusal.recorded_at)} "
                      f"{refusal.submitted_by or '?'} via {refusal.channel}: {reasons}")
    for failed in view.failed_notices:
        console.print(f"[red]Notice #{failed.notice_id} ({failed.kind}) failed[/] for "
                      f"{failed.failed} recipient(s) after {failed.attempts} attempts: "
                      f"{failed.last_error}", highlight=False)
    from dueprocess.orchestration.recovery import describe_driving_run
    from dueprocess.services.escalations import escalation_lines

    for line in escalation_lines(view.case.id):
        console.print(f"[red]{line}[/]", highlight=False)
    run = describe_driving_run(view.case.id)
    if run:
        console.print(f"Driving {run}", highlight=False)
