"""The comment window dueprocess published is what counts (Art. 15): it only grows, by an
action of its own that is authorised, logged and announced; nothing closes it early."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlmodel import col, select

from dueprocess.db import session_scope
from dueprocess.demo.submissions import BEIJING
from dueprocess.errors import Refused
from dueprocess.services.comment_window import extend_comment_window_as
from dueprocess.services.progress import advance_case
from models.evidence import Refusal
from models.ledger import LogLeaf
from models.notices import CommentWindow, Notice
from tests.support import VALID_STEPS, advance_to_step, record_steps, token_for

OCTOBER_1_MIDNIGHT = datetime(2026, 10, 2, tzinfo=BEIJING)  # 2026-10-01 24:00 Beijing time


def window(case_id: str) -> CommentWindow:
    with session_scope() as session:
        return session.exec(select(CommentWindow).where(CommentWindow.case_id == case_id)).one()


def test_the_participation_officer_extends_the_window_logged_and_announced(
    case_id: str,
) -> None:
    advance_case(case_id=case_id)  # participation opens: the window 2026-09-01 to 10-01
    published = window(case_id)
    assert published.closes_at == OCTOBER_1_MIDNIGHT  # open until 2026-10-01 24:00
    extended = extend_comment_window_as(case_id=case_id, until=date(2026, 10, 15),
                                        actor="li.wei", token=token_for("li.wei"),
                                        channel="test")
    assert extended.closes_at == datetime(2026, 10, 16, tzinfo=BEIJING)  # 10-15 24:00
    with session_scope() as session:
        calls = session.exec(select(Notice).where(Notice.case_id == case_id,
                                                  Notice.kind == "call_for_comments")).all()
        logged = session.exec(select(LogLeaf.record).where(
            LogLeaf.case_id == case_id, col(LogLeaf.record).contains("comment_window.extended")
        )).all()
    assert len(calls) == 2 and "2026-10-15" in calls[-1].body_text
    assert len(logged) == 1 and "li.wei" in logged[0]
    # The gate waits for the extended window on the case clock.
    advance_to_step(case_id, "public_participation")  # 2026-10-08: before the new close
    steps = [s for s in VALID_STEPS if s[0] == "public_participation"]
    stage, by, evidence = steps[0]
    from dueprocess.services.recording import record_evidence

    with pytest.raises(Refused, match="PP-WINDOW-AS-PUBLISHED"):
        record_evidence(case_id=case_id, stage_key=stage, recorded_by=by, evidence=evidence,
                        channel="test", token=token_for(by))  # types the old close


def test_only_the_assigned_officer_extends_and_never_shortens(case_id: str) -> None:
    advance_case(case_id=case_id)
    with pytest.raises(Refused, match=r"\[WINDOW-EXTENDER, Art. 15\] 'liu.yang' may not"):
        extend_comment_window_as(case_id=case_id, until=date(2026, 10, 15), actor="liu.yang",
                                 token=token_for("liu.yang"), channel="test")
    with pytest.raises(Refused, match=r"\[WINDOW-EXTENDER, Art. 15\] --until 2026-09-20 is "
                                      r"not after the published close on 2026-10-01"):
        extend_comment_window_as(case_id=case_id, until=date(2026, 9, 20), actor="li.wei",
                                 token=token_for("li.wei"), channel="test")
    with pytest.raises(Refused, match="AUTHENTICATED"):
        extend_comment_window_as(case_id=case_id, until=date(2026, 10, 15), actor="li.wei",
                                 channel="test")
    assert window(case_id).closes_at == OCTOBER_1_MIDNIGHT
    with session_scope() as session:
        refusals = session.exec(select(Refusal).where(Refusal.case_id == case_id)).all()
    assert len(refusals) == 3


def test_completing_participation_never_closes_the_window_early(open_demo_case: object) -> None:
    case_id: str = open_demo_case()  # type: ignore[operator]
    record_steps(case_id, [s for s in VALID_STEPS if s[0] == "public_participation"])
    published = window(case_id)
    assert published.closed_at is None
    assert published.closes_at == OCTOBER_1_MIDNIGHT
