"""Open and close stages (and record the decision with the deciding stage)."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from dueprocess.services.progress import CaseProgress, advance_case


@task(name="open-and-close-stages", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def open_and_close_stages(case_id: str) -> CaseProgress:
    """Complete stages whose gates are open, record the decision atomically with the
    deciding stage, and open the stages whose prerequisites are now completed."""
    return advance_case(case_id=case_id)
