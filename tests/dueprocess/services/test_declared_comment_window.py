"""A case file may declare a shorter comment window only with its reason (Art. 15); the
window dueprocess publishes at participation is the declared one, reason and all."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

import pytest
from sqlmodel import col, func, select

from dueprocess.db import session_scope
from dueprocess.demo import submissions
from dueprocess.demo.submissions import BEIJING
from dueprocess.errors import DueProcessError, Refused
from dueprocess.services.progress import advance_case
from dueprocess.services.recording import record_evidence
from models.cases import DecisionCase
from models.evidence import EvidenceItem
from models.ledger import LogLeaf
from models.notices import CommentWindow, Notice
from models.stages import Stage
from tests.support import (
    advance_to_step,
    demo_case_data,
    open_case_data,
    register_demo_people,
    token_for,
)

REASON = "Fees must start with the school year on 1 October"


@pytest.fixture(autouse=True)
def demo_people_registered() -> None:
    register_demo_people()


def case_file(**comment_window: Any) -> dict[str, Any]:
    data = demo_case_data()
    data["title"] = f"Declared window {secrets.token_hex(4)}"
    data["comment_window"] = comment_window
    return data


def cases_titled(title: str) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(DecisionCase)
                            .where(DecisionCase.title == title)).one()


def test_a_shorter_window_without_a_reason_is_refused_and_nothing_stored() -> None:
    for blank in ({}, {"shortened_reason": "   "}):
        data = case_file(days=20, **blank)
        with pytest.raises(Refused, match=r"\[PP-WINDOW-LENGTH, Art\. 15\] "
                                          r"comment_window\.shortened_reason: .* 20 days .* 30"):
            open_case_data(data)
        assert cases_titled(data["title"]) == 0


def test_a_reason_for_a_window_that_is_not_shorter_is_refused() -> None:
    data = case_file(days=30, shortened_reason=REASON)
    with pytest.raises(DueProcessError, match=r"comment_window\.shortened_reason: .* 30 days "
                                              r"is not shorter"):
        open_case_data(data)
    assert cases_titled(data["title"]) == 0


def test_a_procedure_without_participation_has_no_window_to_declare() -> None:
    data = case_file(days=30)
    data.update(procedure="normative-document", expert_panels={})
    data["people"].append({"handle": "xu.bei", "name": "Xu Bei", "role": "filing_officer",
                           "unit": "District Justice Bureau"})
    data["assignments"] = {"legality_review": ["sun.hao"], "collective_decision": ["zhao.li"],
                           "publication": ["qian.yu"], "filing": ["xu.bei"]}
    with pytest.raises(DueProcessError, match=r"comment_window: procedure 'normative-document' "
                                              r"has no public participation stage"):
        open_case_data(data)
    assert cases_titled(data["title"]) == 0


def test_the_declared_window_is_published_with_its_reason_and_passes_the_gate() -> None:
    case_id = open_case_data(case_file(days=20, shortened_reason=REASON))
    advance_case(case_id=case_id)  # participation opens: 2026-09-01, 20 days to 09-21
    with session_scope() as session:
        window = session.exec(select(CommentWindow)
                              .where(CommentWindow.case_id == case_id)).one()
        calls = session.exec(select(Notice).where(Notice.case_id == case_id,
                                                  Notice.kind == "call_for_comments")).all()
        opened = session.exec(select(LogLeaf.record).where(
            LogLeaf.case_id == case_id, col(LogLeaf.record).contains('"case.opened"'))).one()
    assert window.closes_at == datetime(2026, 9, 22, tzinfo=BEIJING)  # 09-21 24:00
    assert window.shortened_reason == REASON
    assert len(calls) == 1 and REASON in calls[0].body_text
    # The log witnesses the declaration from the opening on.
    assert json.loads(opened)["body"]["comment_window"] == {"days": 20,
                                                            "shortened_reason": REASON}
    # The officer types the published window and reason: the gate passes and the stage closes.
    advance_to_step(case_id, "public_participation")
    evidence = {**submissions.PARTICIPATION, "window_closes": "2026-09-21",
                "shortened_reason": REASON, "shortened_reason_published": True}
    record_evidence(case_id=case_id, stage_key="public_participation", recorded_by="li.wei",
                    evidence=evidence, channel="test", token=token_for("li.wei"))
    advance_case(case_id=case_id)
    with session_scope() as session:
        stage = session.exec(select(Stage).where(Stage.case_id == case_id,
                                                 Stage.key == "public_participation")).one()
    assert stage.status == "completed"


def test_a_reason_other_than_the_published_one_is_refused_and_nothing_stored() -> None:
    case_id = open_case_data(case_file(days=20, shortened_reason=REASON))
    advance_case(case_id=case_id)  # the call publishes the 20-day window and its reason
    advance_to_step(case_id, "public_participation")
    evidence = {**submissions.PARTICIPATION, "window_closes": "2026-09-21",
                "shortened_reason": "The council meets next week",
                "shortened_reason_published": True}
    with pytest.raises(Refused, match=r"\[PP-SHORTENED-REASON-AS-PUBLISHED, Art\. 15\] "
                                      r"shortened_reason 'The council meets next week' is not "
                                      r"the reason dueprocess published"):
        record_evidence(case_id=case_id, stage_key="public_participation",
                        recorded_by="li.wei", evidence=evidence, channel="test",
                        token=token_for("li.wei"))
    with session_scope() as session:
        stored = session.exec(select(func.count()).select_from(EvidenceItem).where(
            EvidenceItem.case_id == case_id)).one()
    assert stored == 0


def test_without_a_declaration_the_window_is_the_minimum() -> None:
    data = demo_case_data()
    data["title"] = f"Default window {secrets.token_hex(4)}"
    case_id = open_case_data(data)
    advance_case(case_id=case_id)
    with session_scope() as session:
        window = session.exec(select(CommentWindow)
                              .where(CommentWindow.case_id == case_id)).one()
    assert window.closes_at == datetime(2026, 10, 2, tzinfo=BEIJING)  # 10-01 24:00
    assert window.shortened_reason is None
