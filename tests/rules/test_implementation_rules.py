"""The implementation rules of Art. 34: one case each blocks (refuses or escalates), naming
its article, and one it lets pass. `test_rule_blocks[ID]` and `test_rule_passes[ID]` are
the tests the compliance matrix (docs/compliance.md) names for each rule; the services
that ask them are tested in tests/programme/test_implementation.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from dueprocess.rules.engine import Unmet
from dueprocess.rules.implementation import (
    ARTICLE,
    IMPLEMENTATION_RULES,
    completion_problems,
    item_problems,
    milestone_problems,
    overdue,
    reporter_problems,
)

DEPARTMENT = "District Justice Bureau"
REGISTERED_ON = date(2026, 11, 25)  # the case's date when the item was registered
Scenario = Callable[[bool], list[Unmet]]
SCENARIOS: dict[str, Scenario] = {
    # A decided case's item names a registered implementing unit.
    "ITEM-CASE-DECIDED": lambda broken: item_problems(
        case_id="dp-2026-abcdef", decided=not broken, department=DEPARTMENT,
        department_registered=True),
    "ITEM-DEPARTMENT": lambda broken: item_problems(
        case_id="dp-2026-abcdef", decided=True,
        department="Ministry of Magic" if broken else DEPARTMENT,
        department_registered=not broken),
    # Milestones track it from the item's registration on.
    "MILESTONE-AFTER-ITEM": lambda broken: milestone_problems(
        due_on=date(2026, 11, 24) if broken else date(2027, 3, 1), registered_on=REGISTERED_ON),
    # The implementing unit reports its progress.
    "PROGRESS-DEPARTMENT": lambda broken: reporter_problems(
        handle="wang.fang" if broken else "xu.bei",
        unit="District Transport Commission" if broken else DEPARTMENT,
        department=DEPARTMENT, item_id=3),
    # A milestone of another item, and one completed already; then its own, open one.
    "PROGRESS-MILESTONE": lambda broken: (
        completion_problems(milestone_id=8, item_id=3, milestone_item=4, completed=False)
        + completion_problems(milestone_id=7, item_id=3, milestone_item=3, completed=True)
        if broken else
        completion_problems(milestone_id=7, item_id=3, milestone_item=3, completed=False)),
    # Past due on the case's date and not completed: escalated. Completed on time, or
    # not due yet: not.
    "SUPERVISION-OVERDUE": lambda broken: (
        overdue(milestone_id=7, due_on=date(2027, 3, 1), completed_on=None,
                today=date(2027, 3, 2))
        if broken else
        overdue(milestone_id=7, due_on=date(2027, 3, 1), completed_on=date(2027, 2, 27),
                today=date(2027, 3, 2))
        + overdue(milestone_id=8, due_on=date(2027, 3, 1), completed_on=None,
                  today=date(2027, 3, 1))),
}


def test_every_implementation_rule_has_a_scenario() -> None:
    assert sorted(SCENARIOS) == sorted(rule for rule, _, _ in IMPLEMENTATION_RULES)
    assert {article for _, article, _ in IMPLEMENTATION_RULES} == {ARTICLE} == {"Art. 34"}


@pytest.mark.parametrize("rule", sorted(SCENARIOS))
def test_rule_blocks(rule: str) -> None:
    problems = SCENARIOS[rule](True)
    assert problems and all(u.rule == rule for u in problems), f"{rule} did not fire"
    assert all(str(u).startswith(f"[{rule}, Art. 34] ") for u in problems)


@pytest.mark.parametrize("rule", sorted(SCENARIOS))
def test_rule_passes(rule: str) -> None:
    assert SCENARIOS[rule](False) == []


def test_a_refusal_names_the_field() -> None:
    [decided, unit] = item_problems(case_id="dp-2026-abcdef", decided=False,
                                    department="Ministry of Magic",
                                    department_registered=False)
    assert decided.message.startswith("case_id: case 'dp-2026-abcdef' is not decided yet")
    assert unit.message.startswith("department: 'Ministry of Magic' is not a registered unit")
    [early] = milestone_problems(due_on=date(2026, 11, 24), registered_on=REGISTERED_ON)
    assert early.message == "due_on: 2026-11-24 is before the item was registered on 2026-11-25"
    [other] = completion_problems(milestone_id=8, item_id=3, milestone_item=None,
                                  completed=False)
    assert other.message == "completes_milestone: #8 is not a milestone of item #3"
