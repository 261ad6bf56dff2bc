"""Every process that writes is wired first: an unwired one refuses to write, loudly, rather
than commit a change the transparency log never records."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dueprocess import journal
from dueprocess.composition import journal as wiring
from models import ledger as ledger_tables

UNWIRED_WRITE = """
from dueprocess.db import session_scope
from models.people import Person, Role
with session_scope() as session:
    session.add(Person(handle="unwired.writer", name="Unwired", role=Role.OFFICIAL,
                       unit="nowhere"))
"""
UNWIRED_EVENT = """
from datetime import UTC, datetime
from dueprocess.db import session_scope
from dueprocess.journal import CaseEvent, publish
with session_scope() as session:
    publish(session, CaseEvent(case_id="dp-2026-000000", kind="case.opened",
                               occurred_at=datetime.now(UTC)))
"""


def _run_unwired(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ}, timeout=120)


@pytest.mark.parametrize(("code", "error"), [
    (UNWIRED_WRITE, "RowCaptureNotWired"), (UNWIRED_EVENT, "JournalNotWired"),
])
def test_a_process_that_never_wired_refuses_to_write(code: str, error: str) -> None:
    done = _run_unwired(code)
    assert done.returncode != 0
    assert error in done.stderr and "dueprocess.composition.journal.wire()" in done.stderr


def test_the_same_write_goes_through_once_wired() -> None:
    done = _run_unwired("from dueprocess.composition.journal import wire\nwire()\n"
                        + UNWIRED_WRITE.replace("unwired.writer", "wired.writer"))
    assert done.returncode == 0, done.stderr


def test_wiring_is_idempotent_and_logs_before_the_others_react() -> None:
    wiring.wire()
    wiring.wire()
    subscribed = journal.portable_handlers()
    assert [h for h in subscribed if h in wiring.HANDLERS] == list(wiring.HANDLERS)
    assert wiring.HANDLERS[0] is wiring.log_case_event
    assert ledger_tables.commit_hook() is wiring.append_at_commit
