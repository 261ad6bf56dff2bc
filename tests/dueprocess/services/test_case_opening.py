"""Opening a case needs the opening official's token; a case file cannot bring in people."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from sqlmodel import func, select

from dueprocess.db import session_scope
from dueprocess.errors import Refused
from dueprocess.services.administration import SYSTEM_SCOPE, register_person_as
from dueprocess.services.case_opening import open_case_as
from dueprocess.services.cases import validate_case_request
from models.cases import DecisionCase
from models.evidence import Refusal
from models.people import Person, PersonCreate
from tests.support import admin_token, demo_case_data, register_demo_people, token_for


@pytest.fixture(autouse=True)
def demo_people_registered() -> None:
    register_demo_people()


def request_with(**changes: Any) -> Any:
    data = demo_case_data()
    data["title"] = f"Opening test {secrets.token_hex(4)}"
    data.update(changes)
    return validate_case_request(data, source="test")


def cases_titled(title: str) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(DecisionCase)
                            .where(DecisionCase.title == title)).one()


def refused_rule(error: Refused, *, by: str | None) -> str:
    with session_scope() as session:
        refusal = session.get(Refusal, error.refusal_id)
    assert refusal is not None and refusal.case_id == SYSTEM_SCOPE
    assert refusal.submitted_by == by and refusal.reasons[0]["action"] == "case.open"
    return refusal.reasons[0]["rule"]


def test_the_opening_official_opens_with_their_token() -> None:
    request = request_with()
    case = open_case_as(request=request, token=token_for("wang.fang"), channel="test")
    assert case.opened_by == "wang.fang" and cases_titled(request.title) == 1


@pytest.mark.parametrize("token", [None, "dp_not-a-token"])
def test_no_valid_token_is_refused_audited_and_stores_nothing(token: str | None) -> None:
    request = request_with()
    with pytest.raises(Refused, match=r"\[AUTHENTICATED") as refused:
        open_case_as(request=request, token=token, channel="test")
    assert refused_rule(refused.value, by=None) == "AUTHENTICATED"
    assert cases_titled(request.title) == 0


def test_a_token_of_someone_else_than_opened_by_is_refused() -> None:
    request = request_with()
    with pytest.raises(Refused, match=r"belongs to 'li\.wei', not to 'wang\.fang'") as refused:
        open_case_as(request=request, token=token_for("li.wei"), channel="test")
    assert refused_rule(refused.value, by="li.wei") == "AUTHENTICATED"
    assert cases_titled(request.title) == 0


def test_a_case_file_cannot_register_and_assign_an_unvetted_person() -> None:
    handle = f"mallory.{secrets.token_hex(3)}"
    data = demo_case_data()
    data["people"].append({"handle": handle, "name": "Mallory", "role": "risk_assessor",
                           "unit": "District Stability Office"})
    data["assignments"]["risk_assessment"] = [handle]
    request = request_with(people=data["people"], assignments=data["assignments"])
    with pytest.raises(Refused, match=rf"\[ADMINISTRATOR.*register people \({handle}\)") as r:
        open_case_as(request=request, token=token_for("wang.fang"), channel="test")
    assert refused_rule(r.value, by="wang.fang") == "ADMINISTRATOR"
    with session_scope() as session:
        assert session.exec(select(Person).where(Person.handle == handle)).first() is None
    # Once an administrator has registered the person, the same file opens.
    register_person_as(person=PersonCreate.model_validate(data["people"][-1]),
                       token=admin_token(), channel="test")
    case = open_case_as(request=request, token=token_for("wang.fang"), channel="test")
    assert cases_titled(request.title) == 1 and case.opened_by == "wang.fang"


def test_an_opener_outside_the_undertaking_unit_is_refused_and_audited() -> None:
    request = request_with(opened_by="liu.yang")  # the risk assessor, with their own token
    with pytest.raises(Refused, match=r"\[ST-UNDERTAKING-UNIT, Art. 11\]") as refused:
        open_case_as(request=request, token=token_for("liu.yang"), channel="test")
    assert refused_rule(refused.value, by="liu.yang") == "ST-UNDERTAKING-UNIT"
    assert cases_titled(request.title) == 0
