"""Sign a tree head on a schedule whenever the transparency log has grown.

Whatever comes after the last signed head is protected only by the database; this flow
keeps that window short (DUEPROCESS_SIGN_HEADS_INTERVAL_SECONDS). Decisions and case
closures are signed at once, in the process that records them. A log that no longer
extends its last head is never signed over: the run fails, naming the head.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel


class SignedHead(BaseModel):
    tree_size: int
    root_hash: str
    timestamp: str
    new: bool  # False: the log had not grown since the last head


@task(name="publish-tree-head", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def publish() -> SignedHead | None:
    from dueprocess.db import session_scope
    from dueprocess.ledger import publish_tree_head
    from dueprocess.ledger.heads import tree_head_rows

    with session_scope() as session:
        before = max((row.tree_size for row in tree_head_rows(session)), default=-1)
    logger = get_run_logger()
    sth = publish_tree_head(announce=logger.warning)
    if sth is None:
        return None
    return SignedHead(tree_size=sth.tree_size, root_hash=sth.root_hash,
                      timestamp=sth.model_dump(mode="json")["timestamp"],
                      new=sth.tree_size > before)


@flow(name="sign-heads")
def sign_heads() -> SignedHead | None:
    logger = get_run_logger()
    head = publish()
    if head is None:
        logger.info("the log is empty: no tree head to sign")
    elif head.new:
        logger.info("signed the tree head of size %s, root %s", head.tree_size, head.root_hash)
    else:
        logger.info("the log has not grown since the head of size %s", head.tree_size)
    return head
