"""The sign-heads flow (issue 11, item 6): run on a schedule, it signs a head only when the
log has grown since the last one; tree-head tables that disagree fail its run, named, and
are not retried (issue 22)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from dueprocess.db import session_scope
from dueprocess.journal import CaseEvent, publish
from dueprocess.ledger import HeadStateInconsistent, published_tree_heads
from models.base import utcnow
from tests.dueprocess.ledger.test_support import fresh_database, triggers_dropped

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


def test_tree_head_tables_that_disagree_fail_the_run_naming_them(harness: None) -> None:
    from flows.sign_heads import sign_heads

    grow()
    assert sign_heads() is not None
    # The insider's probe: the heads deleted, their checkpoint kept.
    with session_scope() as session, triggers_dropped(session, "publishedtreehead"):
        session.connection().execute(text("DELETE FROM publishedtreehead"))
    with pytest.raises(HeadStateInconsistent,
                       match="signedcheckpoint has rows of tree size 1, but publishedtreehead "
                             "has no head of that size"):
        sign_heads()


def test_a_refusal_is_not_retried_a_failure_that_may_pass_is() -> None:
    from prefect.states import Failed

    from tasks.heads import publish, retry_unless_refused

    refused: Any = Failed(data=HeadStateInconsistent("the tree-head tables disagree"))
    assert not retry_unless_refused(publish, None, refused)
    assert retry_unless_refused(publish, None, Failed(data=OSError("disk full")))
    assert publish.retry_condition_fn is retry_unless_refused
