"""Helpers shared by tests: the demo submissions in stage order, demo-like cases, the
run-once mark of the service-backed suites, and waiting for a flow run to finish."""

from __future__ import annotations

import copy
import os
import threading
import time
from functools import cache
from typing import Any
from uuid import UUID

import pytest
import yaml

# Shared with the benchmarks, which run without pytest (bench/_stack.py).
from bench._stack import MINIMUM_WAIT as MINIMUM_WAIT
from bench._stack import VALID_STEPS as VALID_STEPS
from bench._stack import advance_to_step as advance_to_step
from bench._stack import drain_events as drain_events
from bench._stack import startups as startups
from dueprocess.demo import submissions


@cache
def _demo_case_data() -> dict[str, Any]:
    from tests.conftest import DEMO_CASE

    data: dict[str, Any] = yaml.safe_load(DEMO_CASE.read_text(encoding="utf-8"))
    return data


def demo_case_data() -> dict[str, Any]:
    """The demo case file as data, a fresh copy to change."""
    return copy.deepcopy(_demo_case_data())


_TOKENS: dict[tuple[str, str], str] = {}
_TOKENS_LOCK = threading.Lock()


def token_for(handle: str) -> str:
    """An API token of a registered person, issued once per case database (every write
    needs a credential; tests act as the people they name)."""
    from dueprocess.db import session_scope
    from dueprocess.services.identity import authenticate, issue_token
    from dueprocess.settings import get_settings

    key = (get_settings().resolved_database_url, handle)
    with _TOKENS_LOCK, session_scope() as session:  # threads share one token per person
        # A database dropped and made again under the same URL no longer knows the token.
        if key not in _TOKENS or authenticate(session, _TOKENS[key]) is None:
            _register_demo_person(session, handle)
            _TOKENS[key] = issue_token(session, handle=handle, label="tests")[1]
    return _TOKENS[key]


def _register_demo_person(session: Any, handle: str) -> None:
    """A person of the demo case file, registered as an administrator would beforehand
    (a case file may only name registered people)."""
    from sqlmodel import select

    from dueprocess.services.cases import register_person
    from models.people import Person, PersonCreate

    listed = [p for p in _demo_case_data()["people"] if p["handle"] == handle]
    if listed and session.exec(select(Person).where(Person.handle == handle)).first() is None:
        register_person(session, PersonCreate.model_validate(listed[0]))


ADMIN = "root.admin"


def admin_token() -> str:
    """The token of the session database's first administrator (bootstrapped once)."""
    from dueprocess.services.bootstrap import init_admin
    from dueprocess.settings import get_settings

    key = (get_settings().resolved_database_url, ADMIN)
    if key not in _TOKENS:
        _TOKENS[key] = init_admin(handle=ADMIN, name="Root Admin", channel="test")[1]
    return _TOKENS[key]


def form_code_for(case_id: str, stage: str, handle: str, evidence: dict[str, Any]) -> str:
    """A single-use Prefect form code for this evidence, as `dueprocess form-code` gives."""
    from dueprocess.services.form_codes import issue_form_code_as

    return issue_form_code_as(case_id=case_id, stage_key=stage, evidence=evidence,
                              token=token_for(handle), channel="test")[1]


def open_case_data(data: dict[str, Any]) -> str:
    """Open a case from case-file data; returns its id."""
    from dueprocess.db import session_scope
    from dueprocess.services.cases import open_case, validate_case_request

    with session_scope() as session:
        return open_case(session, request=validate_case_request(data, source="test")).id


def record_steps(case_id: str, steps: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Record each step on its day of the case clock and advance the case after it, as
    the flow would."""
    from dueprocess.services.progress import advance_case
    from dueprocess.services.recording import record_evidence

    advance_case(case_id=case_id)
    for stage, by, evidence in steps:
        advance_to_step(case_id, stage)
        record_evidence(case_id=case_id, stage_key=stage, recorded_by=by, evidence=evidence,
                        channel="test", token=token_for(by))
        advance_case(case_id=case_id)


def published_events(case_id: str) -> list[Any]:
    """Case events published for `case_id` in this process (rolled-back ones included)."""
    return [e for e in _journal() if e.case_id == case_id]


@cache
def _journal() -> list[Any]:
    from dueprocess.journal import subscribe

    seen: list[Any] = []
    subscribe(lambda _session, event: seen.append(event))
    return seen


def watch_events() -> None:
    """Start collecting case events (call before the actions to observe)."""
    _journal()


# A normative document (models/procedures/normative-document.yaml) by the demo's people.
NORMATIVE_FILING = {"filed_with": "Beijing Municipal Justice Bureau",
                    "filed_on": "2026-12-01", "filing_number": "BJ-2026-0456"}
NORMATIVE_STEPS: list[tuple[str, str, dict[str, Any]]] = [
    ("legality_review", "sun.hao", {**submissions.LEGALITY, "issued_on": "2026-11-09"}),
    ("collective_decision", "zhao.li", {**submissions.MEETING, "meeting_type": "office",
                                        "materials_received": ["draft", "legality_opinion"]}),
    ("publication", "qian.yu", {**submissions.PUBLICATION, "expert_adoption_explanation": None,
                                "party_committee_consulted_on": None}),
    ("filing", "xu.bei", NORMATIVE_FILING),
]


def normative_case() -> str:
    """Open a normative-document case; returns its id."""
    data = demo_case_data()
    data.update(procedure="normative-document", expert_panels={},
                title="Measures for kerbside parking permits (normative document)")
    data["people"].append({"handle": "xu.bei", "name": "Xu Bei", "role": "filing_officer",
                           "unit": "District Justice Bureau"})
    data["assignments"] = {"legality_review": ["sun.hao"], "collective_decision": ["zhao.li"],
                           "publication": ["qian.yu"], "filing": ["xu.bei"]}
    return open_case_data(data)


# A procuratorial recommendation (models/procedures/recommendation-reply.yaml), received
# when the case opens on the demo's simulated day (2026-09-01): reply due by 10-31.
RECOMMENDATION_DEPARTMENT = "District Housing Bureau"
RECOMMENDATION_STEPS: list[tuple[str, str, dict[str, Any]]] = [
    ("assignment", "wang.fang", {"department": RECOMMENDATION_DEPARTMENT,
                                 "responsible": "zhou.kai", "assigned_on": "2026-09-02"}),
    ("reply", "zhou.kai", {"replied_on": "2026-10-20", "outcome": "partly_adopted",
                           "reply_text": "All 14 lifts were inspected; 9 are being replaced.",
                           "reasons": "Five lifts belong to a private estate."}),
]


def recommendation_case() -> str:
    """Open a recommendation-reply case by the demo's official; returns its id."""
    data = demo_case_data()
    data.update(procedure="recommendation-reply", expert_panels={},
                title="Procuratorial recommendation on lift safety in old estates")
    data["people"] += [{"handle": handle, "name": name, "role": "official",
                        "unit": RECOMMENDATION_DEPARTMENT}
                       for handle, name in (("zhou.kai", "Zhou Kai"), ("tang.yue", "Tang Yue"))]
    data["assignments"] = {"assignment": ["wang.fang"], "reply": ["zhou.kai", "tang.yue"]}
    return open_case_data(data)


# Service-backed suites that build their own databases and servers whatever the session's
# case database is: they run once, in the default (SQLite) pass.
RUNS_ONCE = pytest.mark.skipif(
    bool(os.environ.get("DUEPROCESS_TEST_DATABASE_URL")),
    reason="builds its own servers and databases: runs once, in the default pass",
)


def final_state(run_id: UUID, *, timeout: float | None = None) -> Any:
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + (startups(30) if timeout is None else timeout)
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            state = client.read_flow_run(run_id).state
            if state is not None and state.is_final():
                return state
            time.sleep(0.3)
    raise AssertionError(f"flow run {run_id} did not finish")


def register_demo_people() -> None:
    """Everyone the demo case file lists, registered as an administrator would beforehand."""
    from dueprocess.db import session_scope

    with session_scope() as session:
        for person in _demo_case_data()["people"]:
            _register_demo_person(session, person["handle"])


def as_official() -> dict[str, str]:
    """The environment of the demo case's opening official (`dueprocess open` needs it),
    with the people its case file lists registered."""
    register_demo_people()
    return {"DUEPROCESS_TOKEN": token_for("wang.fang")}


