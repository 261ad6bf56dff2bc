"""The unsigned tail (issue 22, part 2): `verify` says how many leaves follow the newest
signed tree head and how old the oldest of them is, on the case database's own clock, and
warns when that is older than DUEPROCESS_MAX_UNSIGNED_SECONDS."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dueprocess.db import session_scope
from dueprocess.journal import CaseEvent, publish
from dueprocess.ledger import publish_tree_head, verify_log
from dueprocess.ledger.audit import duration
from tests.dueprocess.ledger.test_support import decided_case, fresh_database

TAIL_LINE = re.compile(r"  unsigned tail: (\d+) leaves? after the newest signed head "
                       r"\(size (\d+)\), the oldest appended (.+) ago on the case "
                       r"database's clock")


@pytest.fixture
def case_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A closed case alone in a fresh database: its closure signed a head over it."""
    monkeypatch.delenv("DUEPROCESS_MAX_UNSIGNED_SECONDS", raising=False)
    with fresh_database(tmp_path):
        yield decided_case()


def grow(case_id: str, times: int = 1, *, occurred_at: datetime | None = None) -> None:
    for _ in range(times):
        with session_scope() as session:
            publish(session, CaseEvent(case_id=case_id, kind="notice.published",
                                       occurred_at=occurred_at or datetime.now(UTC)))


def test_no_tail_after_the_closure_was_signed(case_id: str) -> None:
    report = verify_log()
    assert report.tail is not None and report.tail.leaves == 0
    assert report.tail.signed_size == report.tree_size
    assert (f"  unsigned tail: none (the newest signed head covers all {report.tree_size} "
            "leaves)") in report.summary()
    assert "WARNING" not in report.summary()


def test_a_tail_is_counted_and_aged_on_the_database_clock(case_id: str) -> None:
    signed = verify_log().tree_size
    # Records dated years ahead (a simulated clock, a skewed host): the age is the
    # database's, not what the records say.
    grow(case_id, 2, occurred_at=datetime(2031, 1, 1, tzinfo=UTC))
    report = verify_log()
    assert report.tail is not None
    assert (report.tail.leaves, report.tail.signed_size) == (2, signed)
    assert report.tail.age_seconds is not None and 0 <= report.tail.age_seconds < 30
    match = TAIL_LINE.search(report.summary())
    assert match is not None, report.summary()
    assert match.groups()[:2] == ("2", str(signed))
    assert match.group(3).endswith(" s")
    assert "WARNING" not in report.summary()
    # Signing covers it again.
    publish_tree_head(announce=lambda _: None)
    assert verify_log().tail.leaves == 0  # type: ignore[union-attr]


def test_a_tail_older_than_the_bound_is_named(
    case_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed = verify_log().tree_size
    grow(case_id, 2)
    monkeypatch.setenv("DUEPROCESS_MAX_UNSIGNED_SECONDS", "1")
    time.sleep(1.5)
    report = verify_log()
    assert report.tail is not None and report.tail.over_bound
    assert report.tail.age_seconds is not None and report.tail.age_seconds > 1
    assert (f"WARNING: the unsigned tail is older than DUEPROCESS_MAX_UNSIGNED_SECONDS (1 s): "
            f"leaves {signed}..{signed + 1} are covered by no signed tree head, only by the "
            "database.") in report.summary()
    # The same tail under the default bound (60 s) is within it.
    monkeypatch.delenv("DUEPROCESS_MAX_UNSIGNED_SECONDS")
    assert not verify_log().tail.over_bound  # type: ignore[union-attr]


def test_a_log_with_no_signed_head_is_all_tail(tmp_path: Path) -> None:
    with fresh_database(tmp_path):
        assert "  unsigned tail: none (the log is empty)" in verify_log().summary()
        grow("dp-2026-tail")
        report = verify_log()
        assert report.signed_heads == 0
        assert re.search(r"  unsigned tail: 1 leaf and no tree head signed yet, the oldest "
                         r"appended \d+ s ago on the case database's clock", report.summary())


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0 s"), (42.9, "42 s"), (60, "1 min"), (303, "5 min 3 s"), (3601, "1 h"),
    (7500, "2 h 5 min"), (3 * 86400 + 4 * 3600 + 5, "3 d 4 h"),
])
def test_durations_read_in_their_two_largest_units(seconds: float, text: str) -> None:
    assert duration(seconds) == text
