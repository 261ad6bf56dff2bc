"""Make sure one flow run at a time drives a case."""

from __future__ import annotations

from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound

from dueprocess.db import session_scope
from dueprocess.services.cases import get_case

ACTIVE = frozenset({"RUNNING", "PAUSED", "SCHEDULED", "PENDING"})


def _is_active(flow_run_id: str) -> bool:
    with get_client(sync_client=True) as client:
        try:
            run = client.read_flow_run(UUID(flow_run_id))
        except ObjectNotFound:
            return False
    return run.state is not None and run.state.type.value in ACTIVE


def claim_case(*, case_id: str, flow_run_id: str) -> str | None:
    """Claim the case for this run; return the id of another active run that holds it.

    A run that already holds the claim (every rerun after its first pass) costs one read,
    no lock and no Prefect call. A run that crashed, failed or was cancelled loses its
    claim, so a replacement run takes over where the database says the case stands.
    """
    with session_scope() as session:
        if get_case(session, case_id).flow_run_id == flow_run_id:
            return None
    with session_scope() as session:
        case = get_case(session, case_id, lock=True)
        holder = case.flow_run_id
        if holder and holder != flow_run_id and _is_active(holder):
            return holder
        case.flow_run_id = flow_run_id
        session.add(case)
        return None
