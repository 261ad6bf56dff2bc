"""How a case's flow run is named and tagged, so that it can be found in the Prefect UI
and with `prefect flow-run ls --flow-name major-decision` among the many short runs of
the delivery and watchdog deployments."""

from __future__ import annotations

from dueprocess.db import session_scope
from dueprocess.services.cases import get_case

NAME_LIMIT = 120  # long titles are cut: the name is for finding the run, the id is in it


def case_run_name(case_id: str) -> str:
    """`<case id>: <title>`, e.g. `dp-2026-1a2b3c: Peak parking fees in the old town`."""
    with session_scope() as session:
        title = get_case(session, case_id).title
    name = f"{case_id}: {' '.join(title.split())}"
    return name if len(name) <= NAME_LIMIT else name[: NAME_LIMIT - 1] + "…"


def case_run_tags(case_id: str) -> list[str]:
    """Tags to filter by: every case run, and this case."""
    return ["dueprocess", "case", f"case:{case_id}", case_id]
