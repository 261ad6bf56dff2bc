"""Sign a tree head of the transparency log, as the task of the sign-heads flow."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from dueprocess.db import session_scope
from dueprocess.ledger import publish_tree_head
from dueprocess.ledger.heads import tree_head_rows


class SignedHead(BaseModel):
    tree_size: int
    root_hash: str
    timestamp: str
    new: bool  # False: the log had not grown since the last head


@task(name="publish-tree-head", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def publish() -> SignedHead | None:
    with session_scope() as session:
        before = max((row.tree_size for row in tree_head_rows(session)), default=-1)
    logger = get_run_logger()
    sth = publish_tree_head(announce=logger.warning)
    if sth is None:
        return None
    return SignedHead(tree_size=sth.tree_size, root_hash=sth.root_hash,
                      timestamp=sth.model_dump(mode="json")["timestamp"],
                      new=sth.tree_size > before)
