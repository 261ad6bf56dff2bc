"""SIGKILL at the points that matter, on a real `dueprocess up` stack.

One case goes through every stage while processes die under it:
- the flow process that records evidence from the run's form, inside the transaction;
- the flow process that recorded evidence, after the commit and before the gate decision;
- a `dueprocess record` CLI process, after its commit and before it resumes the run;
- the deliver-notices process, while it is sending a notice (the receiver kills it).
Each point fires once (dueprocess.orchestration.faults); the stack then restarts the crashed run
(resume-case on the Crashed event), the watchdog sweep wakes the run the dead CLI did not
resume, and the next delivery run resends the notice with the same idempotency key.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from sqlmodel import select

from dueprocess.db import session_scope
from dueprocess.orchestration.case_runs import wait_for_gate
from dueprocess.orchestration.faults import fired
from dueprocess.orchestration.resume import resume_with_input
from models.notices import NoticeDelivery
from tests.faults.harness import (
    KillingReceiver,
    UpProcess,
    assert_completed_once,
    cli_record,
    open_case,
    record,
    stage_completed,
    wait_until,
)
from tests.scaleout.harness import pointed_at
from tests.support import RUNS_ONCE, VALID_STEPS, form_code_for, startups

pytestmark = [pytest.mark.slow, pytest.mark.timeout(0), RUNS_ONCE]

IN_TRANSACTION = "evidence.recorded:in-transaction"
AFTER_COMMIT = "evidence.recorded:after-commit"


@pytest.fixture(scope="module")
def receiver() -> Iterator[KillingReceiver]:
    receiver = KillingReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, receiver: KillingReceiver,
          ) -> Iterator[UpProcess]:
    root = tmp_path_factory.mktemp("faults")
    faults = root / "faults"
    faults.mkdir()
    for point in (IN_TRANSACTION, AFTER_COMMIT):  # disarmed until a test removes the marker
        (faults / f"{point.replace(':', '_')}.fired").write_text("0\n")
    receiver.write_apprise_config(root / "data" / "apprise.yaml", "public, officials")
    up = UpProcess(root / "data", extra_env={
        "DUEPROCESS_FAULT_POINTS": f"{IN_TRANSACTION},{AFTER_COMMIT}",
        "DUEPROCESS_FAULT_DIR": str(faults),
        "DUEPROCESS_WATCHDOG_INTERVAL_SECONDS": "20",
        "DUEPROCESS_NOTIFY_DELIVERY_INTERVAL_SECONDS": "20",
        "DUEPROCESS_NOTIFY_LEASE_SECONDS": "3",
        "DUEPROCESS_NOTIFY_BACKOFF_SECONDS": "1",
    })
    up.start()
    try:
        with pointed_at(up.database_url, up.api_url, data_dir=up.data_dir):
            yield up
    finally:
        if up.process is not None and up.process.poll() is None:
            up.stop()
        assert not up.leftovers(), "dueprocess up left processes behind"


def arm(stack: UpProcess, point: str) -> Path:
    directory = Path(stack.extra_env["DUEPROCESS_FAULT_DIR"])
    (directory / f"{point.replace(':', '_')}.fired").unlink()
    return directory


def through_form(case_id: str, stage: str, by: str, evidence: dict[str, object]) -> None:
    gate = wait_for_gate(case_id, timeout=startups(40))
    assert gate is not None, f"no gate for {stage}"
    from dueprocess.orchestration.evidence_form import form_values
    from tests.support import advance_to_step

    advance_to_step(case_id, stage)  # the step's day on the case clock
    from models.procedure import load_procedure

    values = form_values(load_procedure("decree-713"), stage, evidence)  # yes/no choices
    response = resume_with_input(UUID(gate[0]), run_input={
        "recorded_by": by, stage: values,
        "proof": form_code_for(case_id, stage, by, evidence)})
    assert response.status.value == "ACCEPT", response


def test_a_case_survives_every_kill(stack: UpProcess, receiver: KillingReceiver,
                                    tmp_path: Path) -> None:
    case_id = open_case(stack)
    # The call for comments is the first notice: its delivery process dies sending it.
    wait_until(lambda: receiver.killed, timeout=startups(40), what="the notice sender to be killed")

    # 1. Killed inside the transaction recording the form's evidence: nothing was stored,
    #    the run is restarted and gets its input back from Prefect.
    faults = arm(stack, IN_TRANSACTION)
    stage, by, evidence = VALID_STEPS[0]
    through_form(case_id, stage, by, evidence)
    wait_until(lambda: fired(faults, IN_TRANSACTION), timeout=startups(20), what="the first kill")
    wait_until(lambda: stage_completed(case_id, stage), timeout=startups(60),
               what=f"{stage} after the kill")

    for index in (1, 2, 3):  # the experts, without faults
        record(case_id, index)

    # 2. Killed after the evidence committed, before the gate decision.
    arm(stack, AFTER_COMMIT)
    stage, by, evidence = VALID_STEPS[4]
    through_form(case_id, stage, by, evidence)
    wait_until(lambda: fired(faults, AFTER_COMMIT), timeout=startups(20), what="the second kill")
    wait_until(lambda: stage_completed(case_id, stage), timeout=startups(60),
               what=f"{stage} after the kill")

    # 3. The CLI dies after its commit: no advance, no event, no resume from it.
    cli_faults = tmp_path / "cli-faults"
    killed = cli_record(stack, case_id, 5, tmp_path, DUEPROCESS_FAULT_POINTS=AFTER_COMMIT,
                        DUEPROCESS_FAULT_DIR=str(cli_faults))
    assert killed.returncode == -9, (killed.returncode, killed.stdout, killed.stderr)
    assert fired(cli_faults, AFTER_COMMIT)
    wait_until(lambda: stage_completed(case_id, "legality_review"), timeout=startups(60),
               what="legality_review after the CLI died (the watchdog sweep)")
    for index in (6, 7):
        record(case_id, index)
    assert_completed_once(case_id)

    status = stack.cli("status", case_id)
    assert "Completed" in status.stdout, status.stdout

    # Notices: the killed send was resent with the same key; none was taken twice.
    def all_delivered() -> bool:
        with session_scope() as session:
            rows = session.exec(select(NoticeDelivery)).all()
        return bool(rows) and all(r.status == "delivered" for r in rows)

    wait_until(all_delivered, timeout=startups(40), what="every notice delivery to be delivered")
    with session_scope() as session:
        keys = [r.idempotency_key for r in session.exec(select(NoticeDelivery)).all()]
    assert set(receiver.arrivals) == set(keys)
    assert set(receiver.arrivals.values()) == {1}  # the killed attempt was resent once
    assert len(receiver.killed) == 1
