"""Sign a tree head of the transparency log, as the task of the sign-heads flow."""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError
from dueprocess.ledger import publish_tree_head
from dueprocess.ledger.heads import tree_head_rows


class SignedHead(BaseModel):
    tree_size: int
    root_hash: str
    timestamp: str
    new: bool  # False: the log had not grown since the last head


def retry_unless_refused(_task: Any, _task_run: Any, state: Any) -> bool:
    """Retry what may pass on its own (the database busy, a full disk), not a refusal
    that names what an operator must repair first (a log that no longer extends its last
    head, tree-head tables that disagree, a missing key)."""
    return not isinstance(getattr(state, "data", None), DueProcessError)


@task(name="publish-tree-head", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5,
      retry_condition_fn=retry_unless_refused)
def publish() -> SignedHead | None:
    logger = get_run_logger()
    try:
        with session_scope() as session:
            before = max((row.tree_size for row in tree_head_rows(session)), default=-1)
        sth = publish_tree_head(announce=logger.warning)
    except DueProcessError as exc:
        logger.error("no tree head signed: %s", exc)
        raise
    if sth is None:
        return None
    return SignedHead(tree_size=sth.tree_size, root_hash=sth.root_hash,
                      timestamp=sth.model_dump(mode="json")["timestamp"],
                      new=sth.tree_size > before)
