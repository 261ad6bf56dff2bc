"""Sign a tree head on a schedule whenever the transparency log has grown.

Whatever comes after the last signed head (the unsigned tail) is protected only by the
database; this flow bounds it: its deployment runs every DUEPROCESS_MAX_UNSIGNED_SECONDS
(or DUEPROCESS_SIGN_HEADS_INTERVAL_SECONDS, if the operator set that lower), and
`dueprocess verify` warns when the tail is older. Decisions and case closures are signed
at once, in the process that records them. A log that no longer
extends its last head is never signed over: the run fails, naming the head; so does one
whose tree-head tables disagree (naming the tables and sizes), without retrying.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from dueprocess.composition.journal import wire
from flows.system_runs import system_run_name
from tasks.heads import SignedHead, publish


@flow(name="sign-heads", flow_run_name=system_run_name)
def sign_heads() -> SignedHead | None:
    wire()
    logger = get_run_logger()
    head = publish()
    if head is None:
        logger.info("the log is empty: no tree head to sign")
    elif head.new:
        logger.info("signed the tree head of size %s, root %s", head.tree_size, head.root_hash)
    else:
        logger.info("the log has not grown since the head of size %s", head.tree_size)
    return head
