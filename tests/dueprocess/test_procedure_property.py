"""Property: no interleaving of recordings, resumes and reruns decides a case while any
gate before the decision is unmet."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlmodel import func, select

from dueprocess.cases import get_case, open_case, read_case_file
from dueprocess.db import session_scope
from dueprocess.demo import submissions
from dueprocess.errors import Refused
from dueprocess.facts import load_facts
from dueprocess.progress import advance_case
from dueprocess.recording import record_evidence
from dueprocess.rules import evaluate_gate
from dueprocess.waits import consume_wait, prepare_wait
from models.base import utcnow
from models.cases import CaseStatus
from models.decisions import Decision
from models.stages import StageStatus
from tests.conftest import DEMO_CASE
from tests.support import VALID_STEPS

PEOPLE = ["li.wei", "prof.zhang", "prof.chen", "dr.zhou", "liu.yang", "sun.hao", "zhao.li",
          "qian.yu", "wang.fang"]

# Submissions that are stored but keep a gate blocked, or that are refused outright.
FLAWED: list[tuple[str, dict[str, Any]]] = [
    ("public_participation", submissions.PARTICIPATION_SHORT_WINDOW),
    ("public_participation", {**submissions.PARTICIPATION, "window_closes": "2099-01-01"}),
    ("expert_review", {**submissions.EXPERTS["prof.chen"], "direct_interest": True}),
    ("risk_assessment", {**submissions.RISK, "controllable": False}),
    ("legality_review", {**submissions.LEGALITY, "outcome": "unlawful"}),
    ("legality_review", {**submissions.LEGALITY, "outcome": "exploratory_reform"}),
    ("collective_decision", {**submissions.MEETING, "head_decision": "defer"}),
    ("collective_decision", {**submissions.MEETING, "dissent": []}),
    ("publication", {**submissions.PUBLICATION, "channels": ["media"]}),
]
SUBMISSIONS = [(stage, evidence) for stage, _, evidence in VALID_STEPS] + FLAWED
VALID_BY_STAGE: dict[str, list[tuple[str, dict[str, Any]]]] = {}
for _stage, _by, _evidence in VALID_STEPS:
    VALID_BY_STAGE.setdefault(_stage, []).append((_by, _evidence))


class CaseMachine(RuleBasedStateMachine):
    case_id: str

    @initialize()
    def open(self) -> None:
        with session_scope() as session:
            self.case_id = open_case(session, request=read_case_file(DEMO_CASE)).id
        self.wait_seq = 0

    @rule(data=st.data())
    def record(self, data: st.DataObject) -> None:
        """Mostly the assigned person, mostly valid evidence, mostly for an open stage, so
        that random runs do reach decisions; the rest is anyone recording anything."""
        progress = advance_case(case_id=self.case_id)
        stage, evidence = data.draw(st.sampled_from(SUBMISSIONS))
        person = data.draw(st.sampled_from(PEOPLE))
        if progress.open_stages and data.draw(st.integers(0, 4)) > 0:
            stage = data.draw(st.sampled_from(progress.open_stages))
            person, evidence = data.draw(st.sampled_from(VALID_BY_STAGE[stage]))
            if data.draw(st.integers(0, 4)) == 0:
                evidence = data.draw(st.sampled_from(
                    [e for s, e in FLAWED if s == stage] or [evidence]))
        key = data.draw(st.sampled_from([None, None, None, "k1"]))
        with contextlib.suppress(Refused):
            record_evidence(case_id=self.case_id, stage_key=stage, recorded_by=person,
                            evidence=evidence, idempotency_key=key, channel="property")

    @rule()
    def rerun(self) -> None:
        advance_case(case_id=self.case_id)

    @rule(submission=st.sampled_from(SUBMISSIONS), person=st.sampled_from(PEOPLE),
          empty=st.booleans())
    def resume(self, submission: tuple[str, dict[str, Any]], person: str, empty: bool) -> None:
        progress = advance_case(case_id=self.case_id)
        if progress.closed:
            return
        wait = prepare_wait(case_id=self.case_id, flow_run_id="run-a",
                            stage_keys=progress.open_stages)
        stage, evidence = submission
        raw = None if empty else {"recorded_by": person, stage: evidence}
        consume_wait(case_id=self.case_id, key=wait.key, raw=raw)

    @invariant()
    def decided_only_when_every_gate_before_it_is_met(self) -> None:
        now = utcnow()
        with session_scope() as session:
            case = get_case(session, self.case_id)
            facts = load_facts(session, case)
            decisions = session.exec(
                select(func.count()).select_from(Decision).where(Decision.case_id == case.id)
            ).one()
        deciding = facts.procedure.deciding_stage.key
        assert decisions <= 1
        decided = case.status in (CaseStatus.DECIDED, CaseStatus.CLOSED)
        assert decided == (decisions == 1)
        if decided:
            event("case decided")
            for key in facts.procedure.upstream(deciding) | {deciding}:
                assert facts.status(key) is StageStatus.COMPLETED, key
        for stage in facts.procedure.stages:
            if facts.status(stage.key) is StageStatus.COMPLETED:
                assert not facts.unmet_prerequisites(stage), stage.key
                assert evaluate_gate(facts, stage.key, now).open, stage.key


CaseMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestCaseProcedure = CaseMachine.TestCase
