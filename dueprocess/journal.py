"""Case events: every state change announces itself inside its own database transaction.

Features subscribe without the core knowing them: the transparency log appends a leaf and
the notification outbox queues notices in the same transaction as the change, so a change
and its consequences commit or roll back together. Payloads hold ids and digests, never
documents or secrets.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlmodel import Session

# Modules that subscribe handlers when imported (one feature per module).
FEATURE_MODULES: tuple[str, ...] = (
    "dueprocess.ledger", "notifications.outbox", "dueprocess.orchestration.events",
)


@dataclass(frozen=True)
class CaseEvent:
    case_id: str
    kind: str  # case.opened, stage.opened, stage.completed, evidence.recorded, ...
    occurred_at: datetime
    stage_key: str | None = None
    person: str | None = None  # handle of who acted, when a person did
    subject_id: int | None = None  # id of the evidence, refusal or decision row
    digest: str | None = None  # SHA-256 of the subject's canonical content
    body: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Session, CaseEvent], None]
_handlers: list[Handler] = []


def subscribe(handler: Handler) -> Handler:
    """Register a handler, called in the transaction of every case event."""
    _handlers.append(handler)
    return handler


@cache
def _load_features() -> None:
    for module in FEATURE_MODULES:
        importlib.import_module(module)


def publish(session: Session, event: CaseEvent) -> None:
    _load_features()
    for handler in _handlers:
        handler(session, event)
