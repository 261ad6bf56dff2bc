"""The maintenance sweeps the deadline watchdog runs on its schedule, one per feature that
has duties falling due with time: stage deadlines (the core), overdue implementation
milestones and evaluations due after a decision (`implementation`), and the minutes of
refused one-time code guesses that are over, each logged as one record (`notifications`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dueprocess.services.escalations import escalate_missed_deadlines
from implementation.evaluation_due import mark_due_evaluations
from implementation.supervision import supervise_overdue
from notifications.public import log_finished_minutes


@dataclass(frozen=True)
class Sweep:
    task_name: str  # the watchdog's task run, as the Prefect UI shows it
    report_field: str  # where its findings go in the watchdog's report
    message: str  # logged as a warning for each finding (%s: the finding)
    run: Callable[[], list[str]]


def missed_deadlines() -> list[str]:
    return [f"{row.case_id}/{row.stage_key}" for row in escalate_missed_deadlines()]


def overdue_milestones() -> list[str]:
    return [f"item-{row.item_id}/milestone-{row.milestone_id}" for row in supervise_overdue()]


def due_evaluations() -> list[str]:
    return [row.case_id for row in mark_due_evaluations()]


SWEEPS = (
    Sweep("escalate-missed-deadlines", "escalated",
          "deadline missed: %s; escalated to the responsible official", missed_deadlines),
    Sweep("supervise-implementation", "supervised",
          "milestone overdue: %s; escalated by supervision", overdue_milestones),
    Sweep("mark-due-evaluations", "evaluations_due",
          "evaluation after the decision due: %s; the officials are told", due_evaluations),
    Sweep("log-code-guesses", "code_guesses",
          "refused one-time code guesses, logged in aggregate: %s", log_finished_minutes),
)
