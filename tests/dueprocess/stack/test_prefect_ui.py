"""The Prefect UI of a stack on a port other than 4200, in Debian's headless Chromium:
it talks to its own API, lists the case's run by its name, and shows the gate's resume
form as a reviewer needs it."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from dueprocess.stack.processes import local_prefect_server
from tests.browser import launched_chromium
from tests.support import drain_events

pytestmark = [pytest.mark.slow, pytest.mark.browser]
DEFAULT_PORT = 4200
WAIT_MS = 120_000  # the UI's first load compiles nothing but fetches much on a busy machine


@pytest.fixture(scope="module")
def prefect_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Prefect server as the stack starts it, on a free port (never 4200), with the
    major-decision deployment registered (no runner: its runs stay scheduled)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from dueprocess.settings import get_settings
    from flows.major_decision import major_decision

    data_dir = tmp_path_factory.mktemp("prefect-ui")
    with local_prefect_server(data_dir) as api_url:
        assert not api_url.endswith(f":{DEFAULT_PORT}/api")
        saved = {k: os.environ.get(k) for k in ("PREFECT_API_URL",)}
        os.environ["PREFECT_API_URL"] = api_url
        drain_events()  # the case events of these tests go to this server, and no later ones
        try:
            with temporary_settings({PREFECT_API_URL: api_url}):
                deployment: Any = major_decision.to_deployment(
                    name=get_settings().deployment_name.split("/", 1)[1])
                deployment.apply()
                yield api_url
        finally:
            drain_events()
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched_chromium()


def test_the_ui_talks_to_its_own_api_and_finds_the_case_run_by_name(
    prefect_ui: str, browser: Any, case_id: str, tmp_path: Path,
) -> None:
    from dueprocess.orchestration.case_runs import start_case_run
    from dueprocess.orchestration.run_names import case_run_name

    ui = prefect_ui.removesuffix("/api")
    with urllib.request.urlopen(f"{ui}/ui-settings") as reply:
        assert json.load(reply)["api_url"] == prefect_ui
    run_id = start_case_run(case_id)
    name = case_run_name(case_id)
    assert name.startswith(f"{case_id}: ")

    page = browser.new_page()
    try:
        api_calls: list[str] = []
        page.on("request", lambda r: api_calls.append(r.url) if "/api/" in r.url else None)
        page.goto(f"{ui}/runs")
        page.get_by_text(name).first.wait_for(timeout=WAIT_MS)
        page.screenshot(path=str(tmp_path / "runs.png"))
        assert api_calls and all(url.startswith(prefect_ui) for url in api_calls)
        assert "Can't connect" not in page.inner_text("body")
        page.goto(f"{ui}/runs/flow-run/{run_id}")
        page.get_by_text(f"case:{case_id}").first.wait_for(timeout=WAIT_MS)
        page.screenshot(path=str(tmp_path / "run.png"))
        body = page.inner_text("body")
        assert name in body and "dueprocess" in body
    finally:
        page.close()


def _paused_at_gate(case_id: str, api_url: str) -> tuple[UUID, str]:
    """The case's run, paused at its first gate with the form the flow would store (as
    `suspend_flow_run` does: the state, then the schema and the description)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    # Prefect's settings are per context: a new thread must be told the server again.
    with temporary_settings({PREFECT_API_URL: api_url}):
        return _pause(case_id)


def _pause(case_id: str) -> tuple[UUID, str]:
    from prefect.client.orchestration import get_client
    from prefect.input.run_input import keyset_from_paused_state
    from prefect.states import Running, Suspended

    from dueprocess.db import session_scope
    from dueprocess.orchestration.evidence_form import submission_form
    from dueprocess.orchestration.gate_description import describe_gate
    from dueprocess.services.cases import get_case
    from dueprocess.services.progress import advance_case
    from flows.major_decision import major_decision
    from models.procedure import ProcedureDefinition

    open_stages = advance_case(case_id=case_id).open_stages
    with session_scope() as session:
        procedure = ProcedureDefinition.model_validate(get_case(session, case_id).procedure)
    form = submission_form(procedure, open_stages,
                           description=describe_gate(case_id, open_stages))
    with get_client(sync_client=True) as client:
        run = client.create_flow_run(major_decision, parameters={"case_id": case_id},
                                     name=f"{case_id}: form")
        client.set_flow_run_state(run.id, Running(), force=True)
        state: Any = Suspended(timeout_seconds=None, pause_key="evidence-1")
        keyset = keyset_from_paused_state(state)
        state.state_details.run_input_keyset = dict(keyset)
        client.set_flow_run_state(run.id, state, force=True)
    form.save(keyset, flow_run_id=run.id)
    return run.id, "evidence-1"


def test_the_resume_form_shows_the_gate_and_only_what_a_reviewer_fills_in(
    prefect_ui: str, browser: Any, case_id: str, tmp_path: Path,
) -> None:
    # In a thread of its own: Playwright's sync API runs an event loop in this one, and
    # Prefect's calls would then return coroutines instead of storing the form.
    with ThreadPoolExecutor(1) as thread:
        run_id, _key = thread.submit(_paused_at_gate, case_id, prefect_ui).result()
    ui = prefect_ui.removesuffix("/api")
    page = browser.new_page(viewport={"width": 1300, "height": 2000})
    try:
        page.goto(f"{ui}/runs/flow-run/{run_id}")
        page.get_by_text("Suspended").first.wait_for(timeout=WAIT_MS)  # the run is loaded
        page.get_by_role("button", name="Resume").first.click(timeout=WAIT_MS)
        page.get_by_text("Resume Flow Run").first.wait_for(timeout=WAIT_MS)  # the modal
        page.wait_for_function(  # the modal loads the description, then the schema
            "document.body.innerText.includes('可办理的环节')"
            " && document.body.innerText.includes('您的账号')", timeout=WAIT_MS)
        body = page.inner_text("body")  # in zh-CN, as the inbox: the form's language
        assert f"案件 {case_id}" in body and "尚不能办理的环节" in body
        assert "Recorded Evidence Id" not in body
        assert "您的账号" in body and "填写" in body
        # The proof is required, and the idempotency key is generated, not asked for.
        assert "身份证明" in body and "身份证明 (Optional)" not in body
        assert "Idempotency" not in body
        assert "公众参与" in body
        assert "合法性审查" not in body.split("尚不能办理的环节")[0]  # not open: no section
    finally:
        page.screenshot(path=str(tmp_path / "resume-form.png"), full_page=True)
        page.close()
