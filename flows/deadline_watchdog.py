"""Supervise open cases on a schedule: escalate missed stage deadlines, and make sure
every open case is still driven by a flow run.

Each open stage past its deadline (DUEPROCESS_STAGE_DEADLINE_DAYS) gets one escalation
to the responsible official, recorded in the case database and announced as
`dueprocess.deadline.missed`; each overdue implementation milestone gets one supervision
record and escalation (`dueprocess.supervision.overdue`); each major decision whose
evaluation after the decision fell due is marked once and the officials told
(`dueprocess.evaluation.due`). The sweep then recovers any case
whose run stopped or missed a resume while Prefect or the database was away
(`dueprocess.orchestration.recovery`).
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from dueprocess.orchestration.recovery import recover_open_cases
from dueprocess.services.escalations import escalate_missed_deadlines


class WatchdogReport(BaseModel):
    escalated: list[str]
    supervised: list[str] = []
    evaluations_due: list[str] = []
    recovered: dict[str, str]


@task(name="escalate-missed-deadlines", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def escalate() -> list[str]:
    return [f"{row.case_id}/{row.stage_key}" for row in escalate_missed_deadlines()]


@task(name="supervise-implementation", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def supervise() -> list[str]:
    from implementation.supervision import supervise_overdue

    return [f"item-{row.item_id}/milestone-{row.milestone_id}" for row in supervise_overdue()]


@task(name="mark-due-evaluations", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def evaluations_due() -> list[str]:
    from implementation.evaluation_due import mark_due_evaluations

    return [row.case_id for row in mark_due_evaluations()]


# Actions worth reporting; "waits for …", "is Running", "closed" are the normal states.
NOTEWORTHY = ("started", "restarted", "resumed", "failed", "left")


@task(name="recover-open-cases", cache_policy=NO_CACHE)
def recover() -> dict[str, str]:
    return {case_id: action for case_id, action in recover_open_cases()
            if any(word in action for word in NOTEWORTHY)}


@flow(name="deadline-watchdog")
def deadline_watchdog(recover_cases: bool = True) -> WatchdogReport:
    logger = get_run_logger()
    escalated = escalate()
    for item in escalated:
        logger.warning("deadline missed: %s; escalated to the responsible official", item)
    supervised = supervise()
    for item in supervised:
        logger.warning("milestone overdue: %s; escalated by supervision", item)
    due = evaluations_due()
    for case_id in due:
        logger.warning("evaluation after the decision due: %s; the officials are told", case_id)
    recovered = recover() if recover_cases else {}
    for case_id, action in recovered.items():
        logger.info("case %s: %s", case_id, action)
    return WatchdogReport(escalated=escalated, supervised=supervised, evaluations_due=due,
                          recovered=recovered)
