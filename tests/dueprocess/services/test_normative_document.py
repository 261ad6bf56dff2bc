"""A second procedure purely as data: a normative document goes through legality review,
collective deliberation, publication and filing on the same engine and the same waits
the flow uses, and a late filing is flagged."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from dueprocess.clock import use_clock
from dueprocess.commands.procedure import archive_command
from dueprocess.demo.submissions import BEIJING
from dueprocess.services.archive import case_archive
from dueprocess.services.case_clock import advance_clock_to
from dueprocess.services.gate_waits import consume_wait, prepare_wait
from dueprocess.services.progress import advance_case
from tests.support import (
    NORMATIVE_FILING,
    NORMATIVE_STEPS,
    advance_to_step,
    form_code_for,
    normative_case,
    published_events,
    watch_events,
)


def drive_like_the_flow(case_id: str, steps: list[tuple[str, str, dict[str, Any]]]) -> None:
    """What `major_decision` does on each pass: advance, wait at the gate, record."""
    for stage, by, evidence in steps:
        progress = advance_case(case_id=case_id)
        assert progress.open_stages == [stage]
        advance_to_step(case_id, stage)  # the step's day on the case clock
        wait = prepare_wait(case_id=case_id, flow_run_id="run-normative",
                            stage_keys=progress.open_stages)
        outcome = consume_wait(case_id=case_id, key=wait.key,
                               raw={"recorded_by": by, stage: evidence,
                                    "proof": form_code_for(case_id, stage, by, evidence)})
        assert outcome.evidence_id is not None, outcome.reasons


def test_a_normative_document_runs_on_the_same_engine_and_waits() -> None:
    case_id = normative_case()
    drive_like_the_flow(case_id, NORMATIVE_STEPS)
    assert advance_case(case_id=case_id).closed
    archive = case_archive(case_id)
    assert archive.decision is not None and archive.decision.outcome == "approve"
    assert archive.complete and archive.flags == []
    assert list(archive.legality_packages) == ["legality_review"]


def test_a_late_filing_is_flagged_and_announced() -> None:
    watch_events()
    case_id = normative_case()
    late = {**NORMATIVE_FILING, "filed_on": "2026-12-30"}  # published 2026-11-24: due by 12-24
    drive_like_the_flow(case_id, NORMATIVE_STEPS[:-1])
    advance_clock_to(case_id=case_id, moment=datetime(2026, 12, 30, 10, tzinfo=BEIJING))
    drive_like_the_flow(case_id, [("filing", "xu.bei", late)])
    assert advance_case(case_id=case_id).closed  # late, but filed: it cannot block
    [flag] = case_archive(case_id).flags
    assert flag.rule == "FL-ON-TIME" and "due by 2026-12-24" in flag.message
    [event] = [e for e in published_events(case_id) if e.kind == "evidence.late"]
    assert event.stage_key == "filing" and event.body["flags"][0]["rule"] == "FL-ON-TIME"


def test_an_overdue_filing_is_flagged_on_the_case_clock(capsys: pytest.CaptureFixture[str]) -> None:
    """The archive judges late duties at the case's time, as `status` does: a simulated
    case whose filing is overdue on its own clock is flagged before anyone files late,
    whatever the system clock says."""
    real = datetime.now(UTC)
    # The system clock runs months before the case's simulated days.
    with use_clock(lambda: datetime(2026, 6, 1, tzinfo=UTC) + (datetime.now(UTC) - real)):
        case_id = normative_case()
        drive_like_the_flow(case_id, NORMATIVE_STEPS[:-1])  # published 2026-11-24
        assert case_archive(case_id).flags == []  # not yet due on the case clock
        advance_clock_to(case_id=case_id, moment=datetime(2026, 12, 30, 10, tzinfo=BEIJING))
        [flag] = case_archive(case_id).flags
        assert flag.rule == "FL-ON-TIME"
        assert flag.message.startswith("overdue: not filed by 2026-12-24")
        archive_command(case_id)
    printed = capsys.readouterr().out
    assert "Late: [FL-ON-TIME, GOV Office 2018 No. 37] overdue: not filed by 2026-12-24" in printed
