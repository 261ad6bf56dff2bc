"""The inbox's sessions held on the server, what a reviewer may open, and how the inbox
reads: logout, a password change and ending a session from the sessions page close it at
once (the old cookie no longer opens the inbox); another reviewer's task answers 404 like
an unknown one; names, Beijing time, counts, overdue tasks; typed values kept after a
refusal shown field by field."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from sqlmodel import select

from dueprocess.db import session_scope
from dueprocess.web.localize import Localizer
from models.people import InboxLogin, Person
from portal.inbox.routes import open_tasks
from tests.portal.test_inbox import (
    PASSWORD,
    RISK_FORM,
    evidence_count,
    inbox_client,
    login,
    page_csrf,
    refusals,
    task_path,
)
from tests.support import advance_to_step


def password_login(client: TestClient, handle: str, password: str = PASSWORD) -> None:
    """Log in without setting the password first (a second browser of the same person)."""
    form = client.get("/inbox/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    answer = client.post("/inbox/login", data={"handle": handle, "password": password,
                                               "csrf": csrf})
    assert answer.status_code == 200, answer.text


def opens_inbox(client: TestClient) -> bool:
    return client.get("/inbox", follow_redirects=False).status_code == 200


def name_of(handle: str) -> str:
    with session_scope() as session:
        return session.exec(select(Person.name).where(Person.handle == handle)).one()


def test_logout_ends_the_session_on_the_server(consulting_case: str) -> None:
    with inbox_client() as client:
        login(client, "liu.yang")
        cookie = client.cookies.get("dp_inbox")
        assert cookie and opens_inbox(client)
        csrf = page_csrf(client, "/inbox")
        assert client.post("/inbox/logout", data={"csrf": csrf},
                           follow_redirects=False).status_code == 303
        client.cookies.set("dp_inbox", cookie, path="/inbox")  # the old cookie, replayed
        assert not opens_inbox(client)
    with session_scope() as session:
        row = session.exec(select(InboxLogin).join(Person).where(
            Person.handle == "liu.yang").order_by(InboxLogin.id.desc())).first()  # type: ignore[union-attr]
    assert row is not None
    assert row.ended_at is not None and row.ended_why == "logout"
    _, signed = URLSafeTimedSerializer("").loads_unsafe(cookie)  # what the cookie carries
    token = signed["t"]
    assert row.token_sha256 == hashlib.sha256(token.encode()).hexdigest()  # its digest only
    assert token not in row.model_dump_json()


def test_a_password_change_ends_every_session_of_the_old_password(
        consulting_case: str) -> None:
    with inbox_client() as first, inbox_client() as second:
        login(first, "liu.yang")
        password_login(second, "liu.yang")
        assert opens_inbox(first) and opens_inbox(second)
        csrf = page_csrf(first, "/inbox/sessions")
        short = first.post("/inbox/password", data={"csrf": csrf, "current": PASSWORD,
                                                     "new": "short"})
        assert short.status_code == 422 and "12" in short.text
        wrong = first.post("/inbox/password", data={"csrf": csrf, "current": "not it at all",
                                                    "new": "another long password"})
        assert wrong.status_code == 422 and opens_inbox(second)
        changed = first.post("/inbox/password", data={
            "csrf": csrf, "current": PASSWORD, "new": "another long password"})
        assert changed.status_code == 200, changed.text
        assert not opens_inbox(second)  # the other browser's session ended at once
        assert opens_inbox(first)  # this one carries on in a session of the new password
        password_login(second, "liu.yang", "another long password")
        assert opens_inbox(second)


def test_a_person_lists_their_sessions_and_ends_one(consulting_case: str) -> None:
    with inbox_client() as first, inbox_client() as second, inbox_client() as other:
        login(first, "liu.yang")
        password_login(second, "liu.yang")
        login(other, "sun.hao")
        with session_scope() as session:
            *_, mine, newest = session.exec(select(InboxLogin.id).join(Person).where(
                Person.handle == "liu.yang", InboxLogin.ended_at.is_(None))  # type: ignore[union-attr]
                .order_by(InboxLogin.id)).all()  # type: ignore[arg-type]
            theirs = session.exec(select(InboxLogin.id).join(Person).where(
                Person.handle == "sun.hao").order_by(InboxLogin.id.desc())).first()  # type: ignore[union-attr]
        listing = first.get("/inbox/sessions")
        ids = [int(i) for i in re.findall(r'id="session-(\d+)"', listing.text)]
        assert {mine, newest} <= set(ids) and theirs not in ids
        assert re.search(rf'id="session-{mine}">.*?<strong>\(当前会话\)</strong>', listing.text,
                         re.S)
        csrf = page_csrf(first, "/inbox/sessions")
        # Another person's session, or one that does not exist: 404, nothing ended.
        for foreign in (theirs, max(ids) + 1000):
            refused = first.post(f"/inbox/sessions/{foreign or 0}/end", data={"csrf": csrf})
            assert refused.status_code == 404
        assert opens_inbox(other)
        # Without the session's CSRF token: refused.
        assert first.post(f"/inbox/sessions/{newest}/end",
                          data={"csrf": "x"}).status_code == 403
        ended = first.post(f"/inbox/sessions/{newest}/end", data={"csrf": csrf})
        assert ended.status_code == 200 and f'id="session-{newest}"' not in ended.text
        assert not opens_inbox(second) and opens_inbox(first)
        own = first.post(f"/inbox/sessions/{mine}/end", data={"csrf": csrf},
                         follow_redirects=False)
        assert own.status_code == 303 and not opens_inbox(first)


def test_another_reviewers_task_answers_404_like_an_unknown_one(
        consulting_case: str) -> None:
    with inbox_client() as owner, inbox_client() as intruder:
        login(owner, "liu.yang")  # assigned to the risk assessment
        login(intruder, "sun.hao")  # the legality reviewer
        assert owner.get(task_path(consulting_case)).status_code == 200
        assert task_path(consulting_case) not in intruder.get("/inbox").text
        theirs = intruder.get(task_path(consulting_case))
        unknown = intruder.get(task_path("no-such-case"))
        missing_stage = intruder.get(task_path(consulting_case, "no_such_stage"))
        assert theirs.status_code == unknown.status_code == missing_stage.status_code == 404
        assert submitted_text(theirs) == submitted_text(unknown) == submitted_text(
            missing_stage)
        assert consulting_case not in submitted_text(theirs)
        csrf = page_csrf(intruder, "/inbox")
        posted = intruder.post(task_path(consulting_case), data={**RISK_FORM, "csrf": csrf})
        assert posted.status_code == 404 and submitted_text(posted) == submitted_text(theirs)
    assert evidence_count(consulting_case) == 0
    [refusal] = refusals(consulting_case, "portal")
    assert refusal.reasons[0]["rule"] == "ASSIGNED-RECORDER"
    assert refusal.submitted_by == "sun.hao"


def submitted_text(response: object) -> str:
    text = getattr(response, "text", "")
    found = re.search(r'id="message">([^<]*)<', text)
    assert found, text
    return found.group(1)


def test_the_inbox_shows_names_beijing_time_counts_and_overdue_tasks(
        consulting_case: str) -> None:
    with inbox_client() as client:
        login(client, "liu.yang")
        page = client.get("/inbox")
        tasks = open_tasks("liu.yang", now=datetime.now(UTC))
        assert tasks.tasks, "liu.yang has an open task"
        assert f'<span id="me">{name_of("liu.yang")}</span>' in page.text
        assert "(UTC)" not in page.text and "UTC" not in page.text
        beijing = Localizer("zh-CN", ZoneInfo("Asia/Shanghai"))
        for task in tasks.tasks:
            assert task.due is not None
            assert beijing.when(task.due) in page.text
        assert re.search(r'id="count-open">(\d+)<', page.text).group(1) == str(  # type: ignore[union-attr]
            len(tasks.tasks))
        overdue = sum(t.due is not None and (t.due if t.due.tzinfo else t.due.replace(
            tzinfo=UTC)) < datetime.now(UTC) for t in tasks.tasks)
        assert re.search(r'id="count-overdue">(\d+)<', page.text).group(1) == str(overdue)  # type: ignore[union-attr]
        assert page.text.count('class="task overdue"') == overdue
        assert "的待办" in page.text and "风险评估" in page.text  # zh-CN by default
        english = client.get("/inbox?lang=en")
        assert "Inbox of" in english.text and "Risk assessment" in english.text


def test_an_overdue_task_is_counted_highlighted_and_first(consulting_case: str) -> None:
    later = datetime(2999, 1, 1, tzinfo=UTC)
    tasks = open_tasks("liu.yang", now=later)
    assert tasks.tasks and tasks.overdue == len(tasks.tasks)
    assert all(t.overdue for t in tasks.tasks)
    dues = [t.due for t in tasks.tasks]
    assert dues == sorted(dues)  # type: ignore[type-var]
    earlier = open_tasks("liu.yang", now=datetime(2000, 1, 1, tzinfo=UTC))
    assert earlier.overdue == 0


def test_typed_values_are_kept_after_a_refusal_shown_field_by_field(
        consulting_case: str) -> None:
    advance_to_step(consulting_case, "risk_assessment")
    with inbox_client() as client:
        login(client, "liu.yang")
        csrf = page_csrf(client, task_path(consulting_case))
        typed = {**RISK_FORM, "csrf": csrf, "response_plan": "", "level": "medium",
                 "risk_points": "Noise at night\nTraffic"}
        refused = client.post(task_path(consulting_case), data=typed)
        assert refused.status_code == 422
        problem = re.search(r'id="problem-response_plan">([^<]*)<', refused.text)
        assert problem and "response_plan" in problem.group(1)
        assert ">Noise at night\nTraffic</textarea>" in refused.text
        assert '<option value="medium" selected>' in refused.text
        assert 'id="k-assessed_on"' in refused.text  # filled in by dueprocess, not typed
        for area in RISK_FORM["areas"]:
            assert f'value="{area}" checked' in refused.text
        assert 'value="true" selected' in refused.text
        assert csrf not in refused.text.split('name="csrf"')[0]  # not echoed as a value
    assert evidence_count(consulting_case) == 0
