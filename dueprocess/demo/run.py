"""`dueprocess demo`: one realistic case, end to end, on the embedded default.

It starts a local Prefect server and the served deployment under the data directory,
opens the parking-fee case, and plays each reviewer, including a refused attempt to skip
the procedure and a refused piece of invalid evidence.

The case runs on simulated time (case.yaml): its own clock, in the case database, which
the demo advances by logged steps so that the 30-day comment window closes, the legality
review has its 7 working days and the meeting follows the review, all within minutes.
Every record, the status and the portal page say "simulated time".

Two witnesses, each with its own key, cosign every head the demo signs; the dossier it
exports carries both cosignatures, and the verify line it prints requires them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

from rich.console import Console
from sqlmodel import select

from dueprocess.cli_kit import working
from dueprocess.commands.render import print_case
from dueprocess.db import migrate, session_scope
from dueprocess.demo import submissions
from dueprocess.demo.credentials import form_code_for, token_for
from dueprocess.demo.notices import (
    DemoChannels,
    deliver_demo_notices,
    print_portal_hint,
    start_demo_channels,
)
from dueprocess.demo.witnesses import demo_witnesses
from dueprocess.errors import Refused
from dueprocess.ledger import export_and_verify
from dueprocess.services.case_clock import advance_clock_to
from dueprocess.services.case_view import case_view
from dueprocess.services.cases import get_case, open_case, read_case_file
from dueprocess.services.recording import record_evidence
from dueprocess.settings import get_settings
from dueprocess.stack.processes import (
    local_prefect_server,
    prefect_environment,
    served_deployments,
)
from dueprocess.stack.startup import reference_seconds
from models.evidence import GateWait, Refusal
from models.procedure import ProcedureDefinition

# Prefect reads its settings (PREFECT_API_URL, PREFECT_HOME, …) once, when it is first
# imported, and the demo sets them for its own server as it starts it: whatever imports
# Prefect is imported in the function that uses it, after that.
CASE_FILE = Path(__file__).parent / "case.yaml"


@contextmanager
def demo_stack(console: Console, data_dir: Path) -> Iterator[str]:
    """The demo's own Prefect server and served deployments, each start shown while it
    runs (a minute or more on a busy machine); yields the API URL."""
    with ExitStack() as stack:
        with working("starting a Prefect server …", on=console):
            api_url = stack.enter_context(local_prefect_server(data_dir))
        os.environ.update(prefect_environment(data_dir, api_url))
        console.print(f"  Prefect server {api_url.removesuffix('/api')} "
                      f"(log: {data_dir / 'prefect-server.log'})", highlight=False)
        with working("starting the served deployments …", on=console):
            stack.enter_context(served_deployments(data_dir, api_url))
        yield api_url


def step(console: Console, text: str) -> None:
    console.print(f"\n[bold cyan]>[/] {text}")


def patience(idle_seconds: float) -> float:
    """A wait that grows with this machine's measured start-up (a fixed 60 or 120 s broke
    the demo under load: its waits are for flow processes starting)."""
    return max(idle_seconds, idle_seconds / 4 * reference_seconds())


def _wait_for_refusal(case_id: str, key: str, *, timeout: float | None = None
                      ) -> list[dict[str, str]]:
    deadline = time.monotonic() + (timeout or patience(60))
    while time.monotonic() < deadline:
        with session_scope() as session:
            wait = session.exec(
                select(GateWait).where(GateWait.case_id == case_id, GateWait.key == key)
            ).one()
            if wait.consumed_at is not None and wait.refusal_id is not None:
                refusal = session.get(Refusal, wait.refusal_id)
                return refusal.reasons if refusal else []
        time.sleep(0.2)
    raise TimeoutError(f"the flow run did not process the form input at {key}")


def advance_clock_for(console: Console, case_id: str, stage: str) -> None:
    """Move the case's simulated clock to the day the reviewer records `stage`."""
    before_and_after = advance_clock_to(case_id=case_id, moment=submissions.recorded_at(stage),
                                        person="demo")
    console.print(f"  [magenta]simulated time[/]: the case clock reads "
                  f"{before_and_after.astimezone(submissions.BEIJING):%Y-%m-%d %H:%M} "
                  "(Beijing)", highlight=False)


def record_step(console: Console, case_id: str, stage: str, by: str, evidence: dict[str, Any],
            *, resume: bool = True) -> None:
    from dueprocess.orchestration.case_runs import (  # deferred: Prefect, once PREFECT_* are set
        resume_after_recording,
    )

    advance_clock_for(console, case_id, stage)

    item = record_evidence(case_id=case_id, stage_key=stage, recorded_by=by,
                           evidence=evidence, channel="demo", token=token_for(by))
    console.print(f"  {by} recorded {stage} evidence #{item.id}")
    if resume:
        with working(f"the flow run takes the {stage} evidence …", on=console):
            outcome = resume_after_recording(item, timeout=patience(120))
        console.print(f"  {outcome}")


def _play_case(console: Console, case_id: str) -> None:
    from prefect.client.orchestration import get_client  # deferred: Prefect, once PREFECT_* are set

    from dueprocess.orchestration.case_runs import start_case_run, wait_for_gate
    from dueprocess.orchestration.evidence_form import form_values
    from dueprocess.orchestration.resume import resume_with_input

    run_id = start_case_run(case_id)
    console.print(f"  flow run {run_id} started")
    with working("waiting for it to reach the first gate …", on=console):
        gate = wait_for_gate(case_id, timeout=patience(120))
    if gate is None:
        raise RuntimeError("the flow run did not reach its first gate")

    step(console, "The legal reviewer tries to review before public participation, expert "
          "review and risk assessment are done")
    try:
        record_evidence(case_id=case_id, stage_key="legality_review", recorded_by="sun.hao",
                        evidence=submissions.LEGALITY, channel="demo",
                        token=token_for("sun.hao"))
    except Refused as refused:
        console.print(f"  [red]refused[/]: {refused}", markup=True, highlight=False)

    step(console, "The 30-day comment window dueprocess published closes; the participation "
          "officer then types a 19-day window into the run's Prefect resume form")
    advance_clock_for(console, case_id, "public_participation")
    with session_scope() as session:
        procedure = ProcedureDefinition.model_validate(get_case(session, case_id).procedure)
    run_input = {"recorded_by": "li.wei",  # the choices in the form's words, as typed
                 "public_participation": form_values(
                     procedure, "public_participation",
                     submissions.PARTICIPATION_SHORT_WINDOW),
                 "proof": form_code_for(case_id, "public_participation", "li.wei",
                                        submissions.PARTICIPATION_SHORT_WINDOW)}
    response = resume_with_input(UUID(gate[0]), run_input=run_input)
    if response.status.value != "ACCEPT":
        raise RuntimeError(f"the resume form refused the input: {response.details}")
    for reason in _wait_for_refusal(case_id, gate[1]):
        console.print(f"  [red]refused[/]: [{reason['rule']}, {reason['article']}] "
                      f"{reason['message']}", highlight=False)

    step(console, "Public participation, expert review and risk assessment run in parallel")
    record_step(console, case_id, "public_participation", "li.wei", submissions.PARTICIPATION,
            resume=False)
    for handle, opinion in submissions.EXPERTS.items():
        record_step(console, case_id, "expert_review", handle, opinion, resume=False)
    record_step(console, case_id, "risk_assessment", "liu.yang", submissions.RISK)

    step(console, "Legality review, then the executive meeting decides, then publication")
    record_step(console, case_id, "legality_review", "sun.hao", submissions.LEGALITY)
    record_step(console, case_id, "collective_decision", "zhao.li", submissions.MEETING)
    record_step(console, case_id, "publication", "qian.yu", submissions.PUBLICATION)

    with get_client(sync_client=True) as client:
        deadline = time.monotonic() + patience(120)
        while time.monotonic() < deadline:
            state = client.read_flow_run(run_id).state
            if state is not None and state.is_final():
                console.print(f"  flow run {run_id} finished: {state.name}")
                return
            time.sleep(0.5)
    raise RuntimeError(f"flow run {run_id} did not finish")


def run_demo(console: Console) -> None:
    started = time.monotonic()
    # The demo's own stack is a demo stack: it may run the case on simulated time (its
    # served deployments inherit this); a stack for real use refuses it.
    os.environ["DUEPROCESS_ALLOW_SIMULATED_TIME"] = "true"
    get_settings.cache_clear()
    settings = get_settings()
    data_dir = settings.data_dir
    console.print(f"[bold]dueprocess demo[/] — data directory {data_dir}")
    migrate()
    channels = start_demo_channels(data_dir)  # notices go to a receiver on loopback
    with demo_witnesses(data_dir, console):  # they cosign every head the demo signs
        _run_case(console, data_dir, channels)
    console.print(f"Demo finished in {time.monotonic() - started:.1f} s.")


def _run_case(console: Console, data_dir: Path, channels: DemoChannels) -> None:
    settings = get_settings()
    with demo_stack(console, data_dir):
        with session_scope() as session:
            case = open_case(session, request=read_case_file(CASE_FILE))
        step(console, f"Official wang.fang opens case {case.id}: {case.title}")
        _play_case(console, case.id)
        step(console, "The deliver-notices flow publishes the case's notices")
        deliver_demo_notices(console, case.id, channels)
        view = case_view(case.id)  # while the server is up: the status names the run's state
        console.print()
        print_case(console, view)
    console.print(f"\nThe decision is recorded in the case database "
                  f"({settings.resolved_database_url}), table 'decision', case {case.id}; "
                  f"see it again with: dueprocess status {case.id}")
    print_portal_hint(console, case.id, data_dir)
    export_and_verify(case.id, data_dir / "dossiers" / case.id, console)
