"""Extending a case's comment window (Art. 15): an action of its own, published and logged.

The window dueprocess published with the call for comments only ever grows: the assigned
participation officer may move its close to a later day while public participation is
open. The extension is a case event (logged in the transparency log), and the
notification outbox announces the new closing date with the call for comments again.
Nothing closes a window early.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import select

from dueprocess.clock import end_of_day
from dueprocess.db import session_scope
from dueprocess.errors import Refused
from dueprocess.journal import CaseEvent, publish
from dueprocess.rules.engine import Unmet
from dueprocess.rules.permissions import window_extender
from dueprocess.services.case_clock import case_now
from dueprocess.services.case_snapshot import load_facts
from dueprocess.services.cases import get_case
from dueprocess.services.identity import identity_problems
from dueprocess.services.refusal_audit import audited
from models.notices import CommentWindow
from models.stages import StageStatus

ARTICLE = "Art. 15"


def extend_comment_window_as(
    *, case_id: str, until: date, actor: str, token: str | None = None, channel: str,
    now: datetime | None = None,
) -> CommentWindow:
    """Move the close of the published window to `until` (a later day, open until 24:00
    of it in the case's time zone); `Refused` names the rule when it may not be done."""
    with audited(case_id=case_id, action="extend_comment_window", stage_key=None,
                 person=actor, channel=channel, now=now), session_scope() as session:
        case = get_case(session, case_id, lock=True)
        problems = identity_problems(session, handle=actor, token=token, channel=channel)
        if problems:
            raise Refused(problems)
        now = now or case_now(session, case_id)
        window = session.exec(select(CommentWindow).where(
            CommentWindow.case_id == case_id)).first()
        if window is None:
            raise Refused([Unmet("WINDOW-EXTENDER", ARTICLE, f"case '{case_id}' has published "
                                 "no comment window (public participation has not opened)")])
        facts = load_facts(session, case, also=[actor])
        problems = window_extender(facts, actor, window.stage_key)
        closes_on = facts.last_day(window.closes_at)
        if facts.status(window.stage_key) is StageStatus.COMPLETED:
            problems.append(Unmet("WINDOW-EXTENDER", ARTICLE,
                                  "public participation is completed: the window is over"))
        if until <= closes_on:
            problems.append(Unmet("WINDOW-EXTENDER", ARTICLE,
                                  f"--until {until} is not after the published close on "
                                  f"{closes_on}: a window is extended, never shortened"))
        if problems:
            raise Refused(problems)
        previous = window.closes_at
        window.closes_at = end_of_day(until, facts.timezone)
        session.add(window)
        session.flush()
        publish(session, CaseEvent(
            case_id=case_id, kind="comment_window.extended", occurred_at=now,
            stage_key=window.stage_key, person=actor,
            body={"from": previous.isoformat(), "to": window.closes_at.isoformat(),
                  "simulated": facts.simulated},
        ))
        return window
