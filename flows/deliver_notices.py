"""Deliver the notification outbox: every queued notice, to every recipient, once.

Notices are queued by the case's own transactions (the outbox); this flow only sends
them. Delivery is at least once, with an idempotency key per notice and recipient that
travels with the message, so each recipient takes it once; failures are retried with
backoff and, after DUEPROCESS_NOTIFY_MAX_ATTEMPTS, shown in `dueprocess status`. Runs on a
schedule from the served deployment, or on demand (`dueprocess notices deliver`).
"""

from __future__ import annotations

from typing import Annotated

from prefect import flow, get_run_logger
from pydantic import BaseModel, Field

from dueprocess.composition.journal import wire
from flows.system_runs import system_run_name
from tasks.notices import deliver_outbox, queue_reminders


class DeliveryOutcome(BaseModel):
    reminders_queued: int
    fanned_out: int
    delivered: int
    retrying: int
    failed: int
    skipped: int


@flow(name="deliver-notices", flow_run_name=system_run_name, validate_parameters=True)
def deliver_notices(
    max_batches: Annotated[int | None, Field(
        ge=1, description="Stop after this many batches; default: all that are due"
    )] = None,
) -> DeliveryOutcome:
    wire()
    logger = get_run_logger()
    reminders = queue_reminders()
    report = deliver_outbox(max_batches)
    for error in report.errors:  # privacy form only: no secret reaches the logs
        logger.warning("delivery failed: %s", error)
    outcome = DeliveryOutcome(
        reminders_queued=reminders, fanned_out=report.fanned_out, delivered=report.delivered,
        retrying=report.retrying, failed=report.failed, skipped=report.skipped,
    )
    logger.info("notices: %s", outcome.model_dump())
    return outcome


if __name__ == "__main__":
    deliver_notices()
