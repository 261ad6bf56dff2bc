"""Supervise open cases on a schedule: run every feature's maintenance sweep, and make sure
every open case is still driven by a flow run.

The sweeps are wired in the composition root (`dueprocess.composition.sweeps`): each open
stage past its deadline (DUEPROCESS_STAGE_DEADLINE_DAYS) gets one escalation to the
responsible official (`dueprocess.deadline.missed`); each overdue implementation milestone
one supervision record and escalation (`dueprocess.supervision.overdue`); each major
decision whose evaluation after the decision fell due is marked once and the officials told
(`dueprocess.evaluation.due`). The watchdog then recovers any case whose run stopped or
missed a resume while Prefect or the database was away (`dueprocess.orchestration.recovery`).
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from pydantic import BaseModel

from dueprocess.composition.journal import wire
from dueprocess.composition.sweeps import SWEEPS
from flows.system_runs import system_run_name
from tasks.maintenance import recover, run_sweep


class WatchdogReport(BaseModel):
    escalated: list[str]
    supervised: list[str] = []
    evaluations_due: list[str] = []
    code_guesses: list[str] = []
    recovered: dict[str, str]


@flow(name="deadline-watchdog", flow_run_name=system_run_name)
def deadline_watchdog(recover_cases: bool = True) -> WatchdogReport:
    wire()
    logger = get_run_logger()
    found: dict[str, list[str]] = {}
    for sweep in SWEEPS:
        found[sweep.report_field] = run_sweep(sweep)
        for item in found[sweep.report_field]:
            logger.warning(sweep.message, item)
    recovered = recover() if recover_cases else {}
    for case_id, action in recovered.items():
        logger.info("case %s: %s", case_id, action)
    return WatchdogReport(**found, recovered=recovered)
