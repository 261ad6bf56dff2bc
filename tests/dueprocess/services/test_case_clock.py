"""The case clock: a simulated case's time lives in the case database, moves only forward
by logged steps, and a stack for real use refuses simulated time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console
from sqlmodel import col, delete, select

from dueprocess.clock import use_clock
from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError, Refused
from dueprocess.ledger import LogTampered, verify_log
from dueprocess.services.case_clock import advance_clock, case_now, case_time, is_simulated
from dueprocess.services.case_view import case_view
from dueprocess.settings import get_settings
from models.clock import CaseClock
from models.ledger import LogLeaf
from tests.support import demo_case_data, open_case_data


@pytest.fixture
def real_use(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DUEPROCESS_ALLOW_SIMULATED_TIME", "false")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def test_a_simulated_case_opens_on_its_clock_and_advances_by_logged_steps(case_id: str) -> None:
    assert case_time(case_id).astimezone(UTC).date().isoformat() == "2026-09-01"
    with session_scope() as session:
        assert is_simulated(session, case_id)
        before = case_now(session, case_id)
        after = advance_clock(session, case_id=case_id, by=timedelta(days=30), person="test")
    assert timedelta(days=30) <= after - before < timedelta(days=30, minutes=1)
    with session_scope() as session:
        [record] = session.exec(select(LogLeaf.record).where(
            LogLeaf.case_id == case_id, col(LogLeaf.record).contains("clock.advanced"))).all()
    assert "simulated clock advanced by 30 days" in record
    view = case_view(case_id)
    assert view.simulated and view.now is not None and view.now.month == 10


def test_the_clock_only_moves_forward_and_a_real_case_has_none(case_id: str) -> None:
    with session_scope() as session, pytest.raises(Refused, match="only moves forward"):
        advance_clock(session, case_id=case_id, by=timedelta(days=-1))
    data = demo_case_data()
    del data["simulated_clock"]
    real = open_case_data(data)
    with session_scope() as session:
        assert not is_simulated(session, real)
        with pytest.raises(Refused, match="runs on the system clock"):
            advance_clock(session, case_id=real, by=timedelta(days=1))
    moment = datetime(2030, 1, 1, tzinfo=UTC)
    with use_clock(lambda: moment):  # the system clock is injectable
        assert case_time(real) == moment


def test_a_stack_for_real_use_refuses_simulated_time(case_id: str, real_use: None) -> None:
    from dueprocess.stack.up import _refuse_simulated_time_for_real_use

    with pytest.raises(Refused, match=r"\[CLOCK-SIMULATED, procedure\] this stack is for "
                                      "real use"):
        open_case_data(demo_case_data())
    with pytest.raises(DueProcessError, match="run on simulated time"):
        _refuse_simulated_time_for_real_use(Console())


def test_every_record_of_a_simulated_case_says_so_and_the_label_cannot_be_removed(
    case_id: str,
) -> None:
    data = demo_case_data()
    del data["simulated_clock"]
    real = open_case_data(data)
    with session_scope() as session:
        records = {c: [json.loads(r) for r in session.exec(
            select(LogLeaf.record).where(LogLeaf.case_id == c))] for c in (case_id, real)}
        clock = session.get(CaseClock, case_id)
        assert clock is not None
        saved = clock.model_dump()
    assert records[case_id] and all(r["clock"] == "simulated time" for r in records[case_id])
    assert records[real] and not any("clock" in r for r in records[real])
    # A hand-edited database: deleting the clock row does not make the case pass for real.
    with session_scope() as session:
        session.exec(delete(CaseClock).where(col(CaseClock.case_id) == case_id))
    try:
        with pytest.raises(LogTampered, match=f"of case {case_id} .*was altered: clock is "
                                              "absent in the database but \"simulated time\""):
            verify_log()
    finally:
        with session_scope() as session:
            session.add(CaseClock(**saved))
    verify_log()
