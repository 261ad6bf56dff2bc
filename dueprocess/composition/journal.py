"""Subscribe the features to the case journal, and the transparency log to every commit.

Every process that writes the case database calls `wire()` once before its first write:
the CLI, the portal, each flow run, the served deployments, benchmarks and the test
session. Without it the journal and the row capture refuse to write (`JournalNotWired`,
`RowCaptureNotWired`), so nothing is ever committed that the log did not record.

The handlers import their feature on first use: a read command (`dueprocess cases`) never
publishes, and importing the log, the outbox and Prefect's event code would cost it about
0.5 s of start-up.
"""

from __future__ import annotations

from sqlmodel import Session

from dueprocess import journal
from dueprocess.journal import CaseEvent
from models import ledger as ledger_tables


def log_case_event(session: Session, event: CaseEvent) -> None:
    from dueprocess.ledger.log import log_case_event as log  # deferred: start-up

    log(session, event)


def queue_notices(session: Session, event: CaseEvent) -> None:
    from notifications.outbox import queue_notices as queue  # deferred: start-up

    queue(session, event)


def queue_for_prefect(session: Session, event: CaseEvent) -> None:
    from dueprocess.orchestration.events import queue_for_prefect as queue  # deferred: start-up

    queue(session, event)


def append_at_commit(session: Session) -> None:
    from dueprocess.ledger.log import append_at_commit as append  # deferred: start-up

    append(session)


# In this order: the log records the change before the outbox and Prefect react to it.
HANDLERS = (log_case_event, queue_notices, queue_for_prefect)


def wire() -> None:
    """Subscribe every feature to the journal and the log to every commit (idempotent)."""
    for handler in HANDLERS:
        journal.subscribe(handler)
    ledger_tables.append_at_commit_with(append_at_commit)
