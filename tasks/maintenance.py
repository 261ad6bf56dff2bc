"""The deadline watchdog's tasks: one maintenance sweep, and the recovery of open cases."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from dueprocess.composition.sweeps import Sweep
from dueprocess.orchestration.recovery import is_noteworthy, recover_open_cases


def run_sweep(sweep: Sweep) -> list[str]:
    """The sweep's findings, from a task run named after it (retried: sweeps are idempotent)."""
    return task(name=sweep.task_name, cache_policy=NO_CACHE, retries=2,
                retry_delay_seconds=5)(sweep.run)()


@task(name="recover-open-cases", cache_policy=NO_CACHE)
def recover() -> dict[str, str]:
    """Make sure every open case is driven by a live run; what recovery did, by case."""
    return {case_id: action for case_id, action in recover_open_cases()
            if is_noteworthy(action)}
