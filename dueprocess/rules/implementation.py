"""Implementation of a decision, Decree 713 Art. 34: the decision organ names the unit that
implements it, and the implementing unit implements it fully, promptly and correctly and
reports how it goes.

A decided case's implementation is tracked as items (each naming its implementing unit),
milestones and progress reports, outside the stage gates: the implementation capability
(`implementation/items.py`, `implementation/supervision.py`) asks these checks on what
dueprocess recorded and refuses, or escalates, with the rule id and article they name.
Dates compared are the case's dates of what dueprocess recorded (the item's registration,
a progress update's recording, the case clock), except a milestone's due date, which the
officials set.
"""

from __future__ import annotations

from datetime import date

from dueprocess.rules.engine import Unmet

ARTICLE = "Art. 34"

# (id, article, summary) of every implementation rule, for the compliance matrix.
IMPLEMENTATION_RULES: tuple[tuple[str, str, str], ...] = (
    ("ITEM-CASE-DECIDED", ARTICLE, "An implementation item belongs to a decided case: "
     "implementation follows the decision"),
    ("ITEM-DEPARTMENT", ARTICLE, "An implementation item names its implementing unit, a "
     "registered department whose members report its progress"),
    ("MILESTONE-AFTER-ITEM", ARTICLE, "An item's implementation is tracked by milestones, "
     "none due before the item was registered"),
    ("PROGRESS-DEPARTMENT", ARTICLE, "Progress of an item is reported by its implementing "
     "unit"),
    ("PROGRESS-MILESTONE", ARTICLE, "A milestone is completed by a progress update of its "
     "own item, once"),
    ("SUPERVISION-OVERDUE", ARTICLE, "A milestone past its due date on the case clock "
     "without its completing update is escalated to the officials (督办), once"),
)


def item_problems(*, case_id: str, decided: bool, department: str,
                  department_registered: bool) -> list[Unmet]:
    """Why an implementation item may not be registered: its case and its unit."""
    problems = []
    if not decided:
        problems.append(Unmet("ITEM-CASE-DECIDED", ARTICLE,
                              f"case_id: case '{case_id}' is not decided yet; implementation "
                              "follows the decision"))
    if not department_registered:
        problems.append(Unmet("ITEM-DEPARTMENT", ARTICLE,
                              f"department: '{department}' is not a registered unit: nobody "
                              "could report its progress"))
    return problems


def milestone_problems(*, due_on: date, registered_on: date) -> list[Unmet]:
    """Why a milestone may not be set: it may not fall before its item was registered."""
    if due_on < registered_on:
        return [Unmet("MILESTONE-AFTER-ITEM", ARTICLE,
                      f"due_on: {due_on} is before the item was registered on "
                      f"{registered_on}")]
    return []


def reporter_problems(*, handle: str, unit: str | None, department: str, item_id: int,
                      administrator: bool = False) -> list[Unmet]:
    """Why a person may not report an item's progress: only its implementing unit does
    (an administrator may record it for them)."""
    if unit == department or administrator:
        return []
    return [Unmet("PROGRESS-DEPARTMENT", ARTICLE,
                  f"'{handle}' ({unit or 'no unit'}) may not report progress of item "
                  f"#{item_id}: members of {department} may")]


def completion_problems(*, milestone_id: int, item_id: int, milestone_item: int | None,
                        completed: bool) -> list[Unmet]:
    """Why a progress update may not complete a milestone (`milestone_item`: the item
    the milestone belongs to, None when there is no such milestone)."""
    if milestone_item != item_id:
        return [Unmet("PROGRESS-MILESTONE", ARTICLE,
                      f"completes_milestone: #{milestone_id} is not a milestone of item "
                      f"#{item_id}")]
    if completed:
        return [Unmet("PROGRESS-MILESTONE", ARTICLE,
                      f"completes_milestone: #{milestone_id} is already completed")]
    return []


def overdue(*, milestone_id: int, due_on: date, completed_on: date | None,
            today: date) -> list[Unmet]:
    """A milestone to escalate: past due on the case's date `today`, not completed."""
    if completed_on is None and today > due_on:
        return [Unmet("SUPERVISION-OVERDUE", ARTICLE,
                      f"milestone #{milestone_id} was due on {due_on} and is not completed "
                      f"on {today}")]
    return []
