"""What the benchmarks share with the tests, outside the tests: the demo case, its steps
in an order the procedure allows, moving a case's clock to a step's day, waits derived
from a measured start-up, and draining Prefect's events. No pytest here: the benchmarks
run after a plain `pip install -e .` (tests.support re-exports these for the tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dueprocess.demo import submissions
from dueprocess.stack.startup import reference_seconds

DEMO_CASE = Path(submissions.__file__).resolve().parent / "case.yaml"

# (stage, recorder, evidence) in an order the procedure allows.
VALID_STEPS: list[tuple[str, str, dict[str, Any]]] = [
    ("public_participation", "li.wei", submissions.PARTICIPATION),
    *[("expert_review", handle, opinion) for handle, opinion in submissions.EXPERTS.items()],
    ("risk_assessment", "liu.yang", submissions.RISK),
    ("legality_review", "sun.hao", submissions.LEGALITY),
    ("collective_decision", "zhao.li", submissions.MEETING),
    ("publication", "qian.yu", submissions.PUBLICATION),
]

MINIMUM_WAIT = 30.0


def advance_to_step(case_id: str, stage: str) -> None:
    """Move the case's simulated clock to the day the demo records `stage` (see
    `submissions.RECORDED_ON`): the comment window has closed, the review's 7 working days
    have passed, and no typed date of the step lies in the case's future. Every test that
    records a demo step calls this first (the flow workers read the same clock)."""
    from dueprocess.services.case_clock import (  # deferred: the case database's settings
        advance_clock_to,
    )

    advance_clock_to(case_id=case_id, moment=submissions.recorded_at(stage))


def startups(count: float) -> float:
    """`count` reference start-ups as a timeout: the seconds a fresh Python takes to import
    Prefect's server, measured once per session on this machine as it is loaded now (3 s
    idle, 30 s and more at load 30), so no wait breaks on a busy machine."""
    return max(MINIMUM_WAIT, count * reference_seconds())


def drain_events() -> None:
    """Send this process's queued events while their server is still there, and stop the
    events worker, so that the next event starts one for the API URL in force then."""
    from prefect.events.worker import EventsWorker  # deferred: after PREFECT_* are set

    EventsWorker.drain_all(timeout=10)
