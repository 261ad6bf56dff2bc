"""The sign-heads flow (issue 11, item 6): run on a schedule, it signs a head only when the
log has grown since the last one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dueprocess.db import session_scope
from dueprocess.journal import CaseEvent, publish
from dueprocess.ledger import published_tree_heads
from models.base import utcnow
from tests.dueprocess.ledger.test_support import fresh_database

pytestmark = pytest.mark.flow


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with fresh_database(tmp_path), prefect_test_harness(server_startup_timeout=90):
        yield


def grow() -> None:
    with session_scope() as session:
        publish(session, CaseEvent(case_id="dp-2026-flow", kind="notice.published",
                                   occurred_at=utcnow()))


def test_signs_only_when_the_log_grew(harness: None) -> None:
    from flows.sign_heads import sign_heads

    assert sign_heads() is None  # an empty log: nothing to sign
    grow()
    first = sign_heads()
    assert first is not None and first.new and first.tree_size == 1
    again = sign_heads()
    assert again is not None and not again.new and again.tree_size == 1
    grow()
    grow()
    later = sign_heads()
    assert later is not None and later.new and later.tree_size == 3
    assert [h.tree_size for h in published_tree_heads()] == [1, 3]
