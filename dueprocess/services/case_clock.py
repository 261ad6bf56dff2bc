"""Case time: the system clock, or the simulated clock of a demo or test case.

Every witnessed time of a case (opening, stages, evidence, the comment window, the
meeting record) is read from here. A simulated case's time is the real time plus an
offset stored in the case database, so every process sees the same case time; it only
moves forward, and every advance is a logged case event ("clock.advanced").
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from dueprocess.clock import system_now
from dueprocess.db import session_scope
from dueprocess.errors import Refused
from dueprocess.journal import CaseEvent, publish
from dueprocess.rules.engine import Unmet
from dueprocess.settings import get_settings
from ledger.records import SIMULATED_TIME
from models.clock import CaseClock

SIMULATED_LABEL = SIMULATED_TIME


def simulated_time_problems() -> list[Unmet]:
    """Why this stack may not run a case on simulated time (empty: it may)."""
    if get_settings().allow_simulated_time:
        return []
    return [Unmet("CLOCK-SIMULATED", "procedure",
                  "this stack is for real use: simulated time is refused (a demo or test "
                  "stack sets DUEPROCESS_ALLOW_SIMULATED_TIME=true)")]


def case_now(session: Session, case_id: str) -> datetime:
    """The case's current time: the system clock, plus the offset of a simulated case."""
    clock = session.get(CaseClock, case_id)
    now = system_now()
    return now if clock is None else now + timedelta(seconds=clock.offset_seconds)


def clock_offsets(session: Session, case_ids: set[str]) -> dict[str, timedelta]:
    """The simulated cases among `case_ids`, with how far their clocks are from real time."""
    if not case_ids:
        return {}
    rows = session.exec(select(CaseClock).where(col(CaseClock.case_id).in_(case_ids)))
    return {row.case_id: timedelta(seconds=row.offset_seconds) for row in rows}


def case_time(case_id: str) -> datetime:
    """`case_now` in a transaction of its own (for callers without a session)."""
    with session_scope() as session:
        return case_now(session, case_id)


def simulated_cases() -> list[str]:
    """Ids of the cases that run on simulated time."""
    with session_scope() as session:
        return list(session.exec(select(CaseClock.case_id).order_by(col(CaseClock.case_id))))


def is_simulated(session: Session, case_id: str) -> bool:
    return session.get(CaseClock, case_id) is not None


def start_simulated_clock(session: Session, *, case_id: str, starts_at: datetime) -> None:
    """Put a new case on simulated time starting at `starts_at` (refused on a real stack)."""
    problems = simulated_time_problems()
    if problems:
        raise Refused(problems)
    offset = (starts_at - system_now()).total_seconds()
    session.add(CaseClock(case_id=case_id, offset_seconds=offset))
    session.flush()


def advance_clock(session: Session, *, case_id: str, by: timedelta,
                  person: str | None = None) -> datetime:
    """Move a simulated case's clock forward; returns the new case time. Logged."""
    clock = session.get(CaseClock, case_id)
    problems = simulated_time_problems()
    if clock is None:
        problems.append(Unmet("CLOCK-SIMULATED", "procedure",
                              f"case {case_id} runs on the system clock, which never moves "
                              "but by itself"))
    if by <= timedelta(0):
        problems.append(Unmet("CLOCK-SIMULATED", "procedure",
                              "a simulated clock only moves forward"))
    if problems or clock is None:
        raise Refused(problems)
    clock.offset_seconds += by.total_seconds()
    session.add(clock)
    session.flush()
    now = case_now(session, case_id)
    days = by.total_seconds() / 86400
    publish(session, CaseEvent(
        case_id=case_id, kind="clock.advanced", occurred_at=now, person=person,
        body={"simulated": True, "seconds": by.total_seconds(),
              "message": f"simulated clock advanced by {days:g} days", "now": now.isoformat()},
    ))
    return now


def advance_clock_to(*, case_id: str, moment: datetime, person: str | None = None) -> datetime:
    """Advance a simulated case's clock to `moment` unless it is already past it."""
    with session_scope() as session:
        now = case_now(session, case_id)
        if now >= moment:
            return now
        return advance_clock(session, case_id=case_id, by=moment - now, person=person)
