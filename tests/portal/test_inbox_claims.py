"""Candidate groups, claim / unclaim / delegate as logged acts, saved filters with counts,
and the one-query task list: over real HTTP in process, on the test database (SQLite or
PostgreSQL), with the transparency log recording each act."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import select

from dueprocess.composition.portal import create_app
from dueprocess.db import get_engine, session_scope
from dueprocess.errors import Refused
from dueprocess.services import task_claims
from dueprocess.services.cases import register_person
from dueprocess.settings import InboxSettings
from models.base import utcnow
from models.evidence import EvidenceItem
from models.inbox_tasks import GroupKind, TaskHolder
from models.ledger import LogLeaf
from models.people import Person, PersonCreate
from portal.inbox import tasklist
from tests.browser import served
from tests.portal.conftest import portal_settings
from tests.portal.test_inbox import (
    RISK_FORM,
    evidence_count,
    inbox_client,
    login,
    page_csrf,
    task_path,
)
from tests.portal.test_inbox_browser import fill_risk_form, password_login
from tests.support import advance_to_step, token_for

STAGE = "risk_assessment"


def colleague(handle: str = "wu.qing", *, role: str = "risk_assessor",
              unit: str = "District Stability Office") -> str:
    with session_scope() as session:
        register_person(session, PersonCreate.model_validate(
            {"handle": handle, "name": f"Name of {handle}", "role": role, "unit": unit}))
    return handle


@pytest.fixture
def group_case(consulting_case: str) -> str:
    """A case at risk assessment offered to the risk assessors' role, with a colleague
    of liu.yang (assigned by name) who is only a candidate."""
    advance_to_step(consulting_case, STAGE)
    colleague()
    task_claims.offer_to_group_as(case_id=consulting_case, stage_key=STAGE,
                                  kind=GroupKind.ROLE, value="risk_assessor",
                                  actor="wang.fang", token=token_for("wang.fang"),
                                  channel="cli")
    return consulting_case


def logged_events(case_id: str, kind: str) -> int:
    with session_scope() as session:
        return sum(kind in str(leaf.record) for leaf in session.exec(
            select(LogLeaf).where(LogLeaf.case_id == case_id)))


def post(client: TestClient, path: str, **data: str) -> object:
    csrf = page_csrf(client, "/inbox")
    return client.post(path, data={"csrf": csrf, **data}, follow_redirects=False)


def test_a_candidate_sees_claims_and_records_the_task(group_case: str) -> None:
    with inbox_client() as client:
        login(client, "wu.qing")
        page = client.get("/inbox")
        assert f"/inbox/cases/{group_case}/stages/{STAGE}" in page.text
        assert client.get(task_path(group_case)).status_code == 200
        csrf = page_csrf(client, task_path(group_case))
        unclaimed = client.post(task_path(group_case), data={**RISK_FORM, "csrf": csrf})
        assert unclaimed.status_code == 409 and "CLAIM-BEFORE-RECORDING" in unclaimed.text
        assert evidence_count(group_case) == 0
        claimed = post(client, task_path(group_case) + "/claim")
        assert claimed.status_code == 303  # type: ignore[attr-defined]
        assert "Name of wu.qing" in client.get("/inbox").text
        csrf = page_csrf(client, task_path(group_case))
        recorded = client.post(task_path(group_case), data={**RISK_FORM, "csrf": csrf})
        assert recorded.status_code == 201, recorded.text
    assert evidence_count(group_case) == 1
    assert logged_events(group_case, "task.claimed") == 1


def test_claiming_a_claimed_task_is_refused_naming_the_rule(group_case: str) -> None:
    task_claims.claim(case_id=group_case, stage_key=STAGE, handle="liu.yang", now=utcnow())
    with pytest.raises(Refused, match=r"CLAIM-UNCLAIMED.*held by Liu Yang"):
        task_claims.claim(case_id=group_case, stage_key=STAGE, handle="wu.qing",
                          now=utcnow())
    with pytest.raises(Refused, match="CLAIM-HOLDER"):
        task_claims.unclaim(case_id=group_case, stage_key=STAGE, handle="wu.qing",
                            now=utcnow())
    with inbox_client() as client:
        login(client, "wu.qing")
        refused = post(client, task_path(group_case) + "/claim")
        assert refused.status_code == 409  # type: ignore[attr-defined]
        assert "CLAIM-UNCLAIMED" in refused.text  # type: ignore[attr-defined]
        assert "CLAIM-HOLDER" in post(  # type: ignore[attr-defined]
            client, task_path(group_case) + "/delegate", delegate_to="wu.qing").text


def test_unclaim_and_delegate_are_logged_and_move_the_holder(group_case: str) -> None:
    task_claims.claim(case_id=group_case, stage_key=STAGE, handle="liu.yang", now=utcnow())
    with pytest.raises(Refused, match=r"DELEGATE-CANDIDATE.*sun\.hao"):
        task_claims.delegate(case_id=group_case, stage_key=STAGE, handle="liu.yang",
                             to="sun.hao", now=utcnow())
    with pytest.raises(Refused, match="DELEGATE-OTHER"):
        task_claims.delegate(case_id=group_case, stage_key=STAGE, handle="liu.yang",
                             to="liu.yang", now=utcnow())
    task_claims.delegate(case_id=group_case, stage_key=STAGE, handle="liu.yang",
                         to="wu.qing", now=utcnow())
    with session_scope() as session:
        holder = task_claims.holder_of(session, case_id=group_case, stage_key=STAGE)
        assert holder is not None and holder.handle == "wu.qing"
    task_claims.unclaim(case_id=group_case, stage_key=STAGE, handle="wu.qing", now=utcnow())
    with session_scope() as session:
        assert session.exec(select(TaskHolder).where(
            TaskHolder.case_id == group_case)).first() is None
    assert logged_events(group_case, "task.delegated") == 1
    assert logged_events(group_case, "task.unclaimed") == 1


def test_someone_outside_the_groups_gets_404_and_cannot_claim(group_case: str) -> None:
    outsider = colleague("zheng.he", role="legal_reviewer", unit="District Justice Bureau")
    with inbox_client() as client:
        login(client, outsider)
        assert f"stages/{STAGE}" not in client.get("/inbox").text
        assert client.get(task_path(group_case)).status_code == 404
        assert post(client, task_path(group_case) + "/claim").status_code == 404  # type: ignore[attr-defined]
    with pytest.raises(Refused, match="CLAIM-CANDIDATE"):
        task_claims.claim(case_id=group_case, stage_key=STAGE, handle=outsider, now=utcnow())


def test_a_unit_group_offers_the_task_to_its_members(group_case: str) -> None:
    member = colleague("feng.yi", role="official", unit="Risk Unit")
    with session_scope() as session:
        person = session.exec(select(Person).where(Person.handle == member)).one()
        assert not tasklist.open_tasks(session, person, now=utcnow()).tasks
    with pytest.raises(Refused, match=r"liu\.yang"):  # a reviewer does not assign work
        task_claims.offer_to_group_as(case_id=group_case, stage_key=STAGE,
                                      kind=GroupKind.UNIT, value="Risk Unit",
                                      actor="liu.yang", token=token_for("liu.yang"),
                                      channel="cli")
    task_claims.offer_to_group_as(case_id=group_case, stage_key=STAGE, kind=GroupKind.UNIT,
                                  value="Risk Unit", actor="wang.fang",
                                  token=token_for("wang.fang"), channel="cli")
    with session_scope() as session:
        person = session.exec(select(Person).where(Person.handle == member)).one()
        assert [t.stage_key for t in tasklist.open_tasks(session, person, now=utcnow()).tasks
                ] == [STAGE]
    # Seen, but not claimable: holding it, an official could never record a risk report.
    with pytest.raises(Refused, match=r"CLAIM-CANDIDATE.*the stage's role"):
        task_claims.claim(case_id=group_case, stage_key=STAGE, handle=member, now=utcnow())


def test_a_holder_who_passed_the_task_on_records_nothing(group_case: str) -> None:
    with inbox_client() as client:
        login(client, "wu.qing")
        assert post(client, task_path(group_case) + "/claim").status_code == 303  # type: ignore[attr-defined]
        csrf = page_csrf(client, task_path(group_case))
        refused = client.post(task_path(group_case),
                              data={**RISK_FORM, "response_plan": "", "csrf": csrf})
        assert refused.status_code == 422  # a refused recording assigns nobody
        task_claims.delegate(case_id=group_case, stage_key=STAGE, handle="wu.qing",
                             to="liu.yang", now=utcnow())
        csrf = page_csrf(client, task_path(group_case))
        again = client.post(task_path(group_case), data={**RISK_FORM, "csrf": csrf})
        assert again.status_code == 409 and "CLAIM-BEFORE-RECORDING" in again.text
    assert evidence_count(group_case) == 0


def test_saved_filters_count_and_select_tasks(group_case: str) -> None:
    with inbox_client() as client:
        login(client, "wu.qing")
        saved = post(client, "/inbox/filters", name="this case", case_id=group_case)
        assert saved.status_code == 303  # type: ignore[attr-defined]
        post(client, "/inbox/filters", name="late", overdue_only="on")
        post(client, "/inbox/filters", name="far future", due_before="2999-01-01")
        bad = post(client, "/inbox/filters", name="x", due_before="tomorrow")
        assert bad.status_code == 422 and "due_before" in bad.text  # type: ignore[attr-defined]
        assert "name:" in post(client, "/inbox/filters", name=" ").text  # type: ignore[attr-defined]
        page = client.get("/inbox").text
        counts = dict(re.findall(r'data-filter="([^"]+)">[^(]*\(<span class="filter-count">'
                                 r'(\d+)<', page))
        # Earlier tests' cases offer wu.qing tasks too: the counts are against the list.
        everything = re.search(r'id="filter-all"[^(]*\(<span class="filter-count">(\d+)<', page)
        assert everything is not None
        overdue = re.search(r'id="count-overdue">(\d+)<', page)
        assert overdue is not None
        assert counts == {"this case": "1", "late": overdue.group(1),
                          "far future": everything.group(1)}, counts
        late = re.search(r'href="/inbox\?filter=(\d+)" class="filter" data-filter="late"', page)
        assert late is not None
        selected = client.get(f"/inbox?filter={late.group(1)}").text
        assert f'id="count-open">{overdue.group(1)}<' in selected
        assert selected.count('class="task overdue"') == int(overdue.group(1))
        assert 'class="task"' not in selected  # only the overdue ones
    with session_scope() as session:
        person = session.exec(select(Person).where(Person.handle == "wu.qing")).one()
        later = tasklist.open_tasks(session, person, now=datetime(2999, 6, 1, tzinfo=UTC))
        earlier = tasklist.open_tasks(session, person, now=datetime(2000, 1, 1, tzinfo=UTC))
        assert {f.name: f.count for f in later.filters}["late"] == later.everything
        assert {f.name: f.count for f in earlier.filters}["late"] == 0


def test_the_list_is_one_query(group_case: str) -> None:
    statements: list[str] = []

    def seen(*args: object) -> None:
        statements.append(str(args[2]))

    with session_scope() as session:
        person = session.exec(select(Person).where(Person.handle == "wu.qing")).one()
        event.listen(get_engine(), "before_cursor_execute", seen)
        try:
            rows = tasklist.task_rows(session, person)
        finally:
            event.remove(get_engine(), "before_cursor_execute", seen)
    assert len(statements) == 1
    assert (group_case, STAGE) in {(row[0], row[1]) for row in rows}


@pytest.fixture(scope="module")
def portal_url() -> Iterator[str]:
    app = create_app(portal_settings(comment_rate_count=1000))
    app.state.inbox_settings = InboxSettings(cookie_secure=False)
    yield from served(app)


@pytest.mark.slow
@pytest.mark.browser
def test_in_chromium_a_candidate_claims_then_records(browser: Any, portal_url: str,
                                                     group_case: str, tmp_path: Path) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        password_login(page, portal_url, "wu.qing")
        row = page.locator("tr.task", has_text=group_case)
        assert row.locator(".holder").inner_text().startswith("—")  # nobody holds it
        row.locator("button.claim").click()
        page.wait_for_selector("#me")
        row = page.locator("tr.task", has_text=group_case)
        assert row.locator(".holder-name").inner_text() == "Name of wu.qing"
        assert row.locator("button.unclaim").count() == 1
        row.locator("a").click()
        page.wait_for_selector("#evidence-form")
        fill_risk_form(page, tmp_path)
        page.click("#submit-evidence")
        page.wait_for_selector("#receipt")
        assert "recorded by wu.qing" in page.inner_text("#receipt")
    finally:
        context.close()
    with session_scope() as session:
        [item] = session.exec(select(EvidenceItem).where(
            EvidenceItem.case_id == group_case)).all()
    assert item.recorded_by == "wu.qing" and item.channel == "portal"
    assert logged_events(group_case, "task.claimed") == 1


def test_the_cli_offers_a_stage_to_a_group(consulting_case: str) -> None:
    from typer.testing import CliRunner

    from dueprocess.commands.app import _register_features, app
    from models.inbox_tasks import StageCandidate

    if not app.registered_commands:  # `main()` registers the feature commands
        _register_features()
    command = ["assign-group", consulting_case, STAGE]
    bad = CliRunner().invoke(app, [*command, "team:x", "--as", "wang.fang",
                                   "--token", token_for("wang.fang")])
    assert bad.exit_code != 0 and "group: 'team:x' is not role:<role>" in (
        bad.output + str(bad.exception))
    good = CliRunner().invoke(app, [*command, "unit:District Stability Office", "--as",
                                    "wang.fang", "--token", token_for("wang.fang")])
    assert good.exit_code == 0, good.output
    with session_scope() as session:
        [row] = session.exec(select(StageCandidate).where(
            StageCandidate.case_id == consulting_case)).all()
    assert (row.kind, row.value, row.added_by) == ("unit", "District Stability Office",
                                                   "wang.fang")
    assert logged_events(consulting_case, "task.candidates") == 1
