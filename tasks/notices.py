"""Queue time-driven notices and deliver the outbox, as tasks of the deliver-notices flow.

No Prefect retries here: a retried delivery task would resend a whole batch. Retries are
per delivery, with backoff, kept in the database by `notifications.delivery`.
"""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from models.base import utcnow
from notifications.delivery import DeliveryReport, deliver_pending
from notifications.followers import queue_due_digests
from notifications.reminders import queue_due_reminders


@task(name="queue-reminders", cache_policy=NO_CACHE)
def queue_reminders() -> int:
    """Reminders before stage deadlines and escalations after them, and yesterday's
    digests for the followers of items (each queued once)."""
    now = utcnow()
    return queue_due_reminders(now=now) + queue_due_digests(now=now)


@task(name="deliver-outbox", cache_policy=NO_CACHE)
def deliver_outbox(max_batches: int | None) -> DeliveryReport:
    """Fan out queued notices and send every due delivery through Apprise."""
    return deliver_pending(max_batches=max_batches)
