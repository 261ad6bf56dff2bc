"""Implementation progress (Art. 34-35) is published only by an authenticated official of
the case, after its decision; every refusal is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError, Refused
from dueprocess.services.case_clock import case_time
from models.cases import CaseStatus, DecisionCase
from models.evidence import Refusal
from models.notices import Notice
from notifications.announcements import announce_progress_as
from tests.support import token_for

PROGRESS = {"text": "Meters installed in 3 of 5 zones", "percent": 60,
            "reported_by": "District Transport Commission", "as_of": "2026-12-01"}


def announce(case_id: str, actor: str, token: str | None, **changes: object) -> Notice:
    return announce_progress_as(case_id=case_id, data={**PROGRESS, **changes}, actor=actor,
                                token=token, channel="test")


def test_only_an_authenticated_official_of_the_case_reports_progress(case_id: str) -> None:
    with pytest.raises(Refused, match=r"\[AUTHENTICATED, .*'wang.fang'"):
        announce(case_id, "wang.fang", None)
    with pytest.raises(Refused, match=r"the token belongs to 'prof.zhang', not to 'wang.fang'"):
        announce(case_id, "wang.fang", token_for("prof.zhang"))
    with pytest.raises(Refused, match=r"PROGRESS-REPORTER, Art. 34\] 'prof.zhang' may not"):
        announce(case_id, "prof.zhang", token_for("prof.zhang"))
    with pytest.raises(Refused, match=r"PROGRESS-AFTER-DECISION.*not decided yet"):
        announce(case_id, "wang.fang", token_for("wang.fang"))
    with session_scope() as session:
        refusals = session.exec(select(Refusal).where(Refusal.case_id == case_id)
                                .order_by(col(Refusal.id))).all()
        assert [r.submitted_by for r in refusals][-4:] == ["wang.fang", "wang.fang",
                                                           "prof.zhang", "wang.fang"]
        assert not session.exec(select(Notice).where(
            Notice.case_id == case_id, Notice.kind == "implementation_progress")).all()


def test_a_decided_case_gets_its_progress_published_once(case_id: str) -> None:
    with session_scope() as session:  # decided (the flow tests drive a whole case)
        case = session.get(DecisionCase, case_id)
        assert case is not None
        case.status = CaseStatus.DECIDED
        session.add(case)
    today = case_time(case_id).date()
    with pytest.raises(Refused, match=r"as_of .* is in the future"):
        announce(case_id, "wang.fang", token_for("wang.fang"),
                 as_of=(today + timedelta(days=2)).isoformat())
    with pytest.raises(DueProcessError, match="percent"):
        announce(case_id, "wang.fang", token_for("wang.fang"), percent=120)
    notice = announce(case_id, "wang.fang", token_for("wang.fang"), as_of=today.isoformat())
    again = announce(case_id, "wang.fang", token_for("wang.fang"), as_of=today.isoformat())
    assert notice.public and notice.id == again.id and "60" in notice.body_text
