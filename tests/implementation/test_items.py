"""Implementation (Art. 34–35): items of decided cases, milestones, progress by the
responsible department, and supervision of overdue milestones on the case's clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, func, select

from dueprocess.db import session_scope
from dueprocess.errors import Refused
from dueprocess.ledger import verify_log
from dueprocess.services.case_clock import advance_clock_to, case_time
from implementation.items import item_view
from implementation.supervision import OVERDUE, supervise_overdue
from models.evidence import Refusal
from models.implementation import item_chain
from models.ledger import LogLeaf
from models.notices import Notice
from tests.programme.conftest import DEPARTMENT, OFFICIAL, milestone, progress, register
from tests.support import published_events, watch_events


def refusals(chain: str) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(Refusal)
                            .where(Refusal.case_id == chain)).one()


def test_an_item_needs_a_decided_case_an_official_and_a_real_department(
    decided_case: str, case_id: str,
) -> None:
    before = refusals(decided_case)
    with pytest.raises(Refused, match=r"\[ITEM-CASE-DECIDED, Art\. 34\] case_id: .* not "
                                      r"decided yet"):
        register(case_id)
    with pytest.raises(Refused, match=r"AUTHENTICATED"):
        register(decided_case, token=None)
    with pytest.raises(Refused, match=r"ITEM-OFFICIAL.*'prof.zhang' may not manage"):
        register(decided_case, actor="prof.zhang")
    with pytest.raises(Refused, match=r"\[ITEM-DEPARTMENT, Art\. 34\] department: "
                                      r"'Ministry of Magic'"):
        register(decided_case, department="Ministry of Magic")
    with pytest.raises(Refused, match=r"ITEM-PROPOSAL.*proposal_id: proposal #999999"):
        register(decided_case, proposal_id=999999)
    with pytest.raises(ValidationError, match="street: required"):
        register(decided_case, level="street")
    assert refusals(decided_case) == before + 4  # each refusal audited
    item = register(decided_case)
    assert item.registered_on == case_time(decided_case).date()
    assert item.registered_by == OFFICIAL


def test_a_milestone_dated_before_its_item_is_refused_and_nothing_stored(
    decided_case: str,
) -> None:
    item = register(decided_case)
    assert item.id is not None
    with pytest.raises(Refused, match=r"\[MILESTONE-AFTER-ITEM, Art\. 34\] due_on: .* is "
                                      r"before the item"):
        milestone(item.id, item.registered_on - timedelta(days=1))
    with pytest.raises(Refused, match=r"ITEM-OFFICIAL"):
        milestone(item.id, item.registered_on, actor="prof.zhang")
    assert refusals(item_chain(item.id)) == 2
    assert item_view(item.id).milestones == []
    assert milestone(item.id, item.registered_on).due_on == item.registered_on


def test_progress_is_reported_by_the_department_and_completes_a_milestone_once(
    decided_case: str,
) -> None:
    item = register(decided_case)
    other = register(decided_case, title="Another matter of the same decision")
    assert item.id is not None and other.id is not None
    first = milestone(item.id, item.registered_on + timedelta(days=30))
    foreign = milestone(other.id, other.registered_on + timedelta(days=30))
    with pytest.raises(Refused, match=r"\[PROGRESS-DEPARTMENT, Art\. 34\] 'wang.fang'.*members of "
                                      "District Justice Bureau"):
        progress(item.id, actor=OFFICIAL)
    with pytest.raises(ValidationError, match="evidence: required to complete a milestone"):
        progress(item.id, evidence=[], completes_milestone=first.id)
    with pytest.raises(Refused, match=rf"\[PROGRESS-MILESTONE, Art\. 34\] completes_milestone: "
                                      rf"#{foreign.id} is not a milestone"):
        progress(item.id, completes_milestone=foreign.id)
    done = progress(item.id, completes_milestone=first.id, percent=40)
    with pytest.raises(Refused, match=rf"PROGRESS-MILESTONE.*#{first.id} is already"):
        progress(item.id, completes_milestone=first.id)
    view = item_view(item.id)
    assert view.percent == 40 and done.recorded_on == case_time(decided_case).date()
    assert [(m.milestone.id, m.status(view.today)) for m in view.milestones] == [
        (first.id, "done")]


def test_an_overdue_milestone_is_escalated_once_with_a_notice_on_the_case_clock(
    decided_case: str,
) -> None:
    watch_events()
    item = register(decided_case)
    assert item.id is not None
    due = item.registered_on + timedelta(days=3)
    late = milestone(item.id, due)
    kept = milestone(item.id, due)
    progress(item.id, completes_milestone=kept.id)
    assert not [r for r in supervise_overdue() if r.item_id == item.id]  # not due yet
    # Four days later on the case's own clock (the demo case runs on simulated time).
    advance_clock_to(case_id=decided_case, moment=case_time(decided_case) + timedelta(days=4))
    records = [r for r in supervise_overdue() if r.item_id == item.id]
    assert [(r.milestone_id, r.due_on, r.department) for r in records] == [
        (late.id, due, DEPARTMENT)]
    assert records[0].detected_on > due
    assert not [r for r in supervise_overdue() if r.item_id == item.id]  # once
    assert [(e.kind, e.subject_id) for e in published_events(item_chain(item.id))
            if e.kind == OVERDUE] == [(OVERDUE, records[0].id)]
    with session_scope() as session:
        notices = session.exec(select(Notice).where(
            Notice.case_id == decided_case, Notice.kind == "supervision_escalation")).all()
        assert [n.audience for n in notices] == [["officials"]]
        assert "Meters installed in zone 1" in notices[0].body_text
        assert str(due) in notices[0].body_text
    view = item_view(item.id)
    assert [m.status(view.today) for m in view.milestones] == ["overdue", "done"]
    assert view.milestones[0].escalated_on == records[0].detected_on


def test_the_item_history_is_logged_on_its_chain_and_cannot_be_edited(
    decided_case: str,
) -> None:
    item = register(decided_case)
    assert item.id is not None
    row = milestone(item.id, item.registered_on + timedelta(days=10))
    progress(item.id, completes_milestone=row.id)
    with session_scope() as session:
        kinds = session.exec(select(LogLeaf.kind).where(LogLeaf.case_id == item_chain(item.id))
                             .order_by(col(LogLeaf.leaf_index))).all()
    assert list(kinds) == ["item", "milestone", "progress"]
    verify_log()
    for statement in ("UPDATE milestone SET due_on = '2099-01-01' WHERE id = :id",
                      "DELETE FROM milestone WHERE id = :id"):
        with pytest.raises(DBAPIError, match="append-only"), session_scope() as session:
            session.connection().execute(text(statement), {"id": row.id})
