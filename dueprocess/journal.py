"""Case events: every state change announces itself inside its own database transaction.

Features subscribe without the core knowing them: the composition root
(`dueprocess.composition.journal`) registers the transparency log, the notification outbox
and the Prefect events here, so a change and its consequences commit or roll back
together. Payloads hold ids and digests, never documents or secrets. A process that
publishes before anything was registered fails loudly: an unwired writer would commit
changes the log never records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session


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


class JournalNotWired(RuntimeError):
    """A case event was published in a process whose composition root never ran."""


def subscribe(handler: Handler) -> Handler:
    """Register a handler, called in the transaction of every case event (once)."""
    if handler not in _handlers:
        _handlers.append(handler)
    return handler


def unsubscribe(handler: Handler) -> None:
    """Remove a handler (tests that listen for a while)."""
    _handlers.remove(handler)


def portable_handlers() -> tuple[Handler, ...]:
    """The handlers subscribed in this process that another process can be handed (module-
    level functions, picklable by name), to `subscribe` in a spawned worker; a local
    listener (a test's) only ever observes its own process."""
    return tuple(h for h in _handlers if "<" not in getattr(h, "__qualname__", "<"))


def publish(session: Session, event: CaseEvent) -> None:
    if not _handlers:
        raise JournalNotWired(
            f"case event {event.kind!r} published before the journal was wired: the entry "
            "point must call dueprocess.composition.journal.wire() first")
    for handler in _handlers:
        handler(session, event)
