"""Case commands: officials open cases and read their status, reviewers record evidence.

    dueprocess open CASE_FILE | --title … --organ … …   open a case (your token) and start its run
    dueprocess cases                                    every case, newest first
    dueprocess status CASE                              each stage, and why it is blocked
    dueprocess record CASE STAGE --file F --as HANDLE   record evidence, resume the run
    dueprocess serve                                    serve the deployments
    dueprocess demo                                     one realistic case end to end
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dueprocess.cli_kit import working
from dueprocess.commands.console import (
    console,
    paste,
    prefect_api_problem,
    ready,
    try_prefect,
)
from dueprocess.errors import DueProcessError, NotFound, Refused

if TYPE_CHECKING:
    from dueprocess.services.payloads import TooDeep



def open_command(
    case_file: Annotated[Path | None, typer.Argument(help="YAML or JSON case file")] = None,
    title: Annotated[str | None, typer.Option(help="Case title (instead of a file)")] = None,
    organ: Annotated[str | None, typer.Option(help="Decision organ")] = None,
    undertaking_unit: Annotated[str | None, typer.Option(help="Undertaking unit")] = None,
    legal_basis: Annotated[list[str] | None, typer.Option(help="Repeat per law/article")] = None,
    draft_title: Annotated[str | None, typer.Option()] = None,
    draft_file: Annotated[Path | None, typer.Option(help="Text file with the draft")] = None,
    opened_by: Annotated[str | None, typer.Option(help="Your handle")] = None,
    assign: Annotated[
        list[str] | None, typer.Option(help="STAGE=HANDLE[,HANDLE]; repeat per stage")
    ] = None,
    procedure: Annotated[str, typer.Option(help="Bundled id or file")] = "decree-713",
    start: Annotated[bool, typer.Option(help="Start the case's flow run")] = True,
    proposal: Annotated[str | None, typer.Option(
        help="The proposal: problem, reasons and initial plan (Art. 10)")] = None,
    token: Annotated[str | None, typer.Option(
        envvar="DUEPROCESS_TOKEN", show_default=False,
        help="The opening official's API token (default: DUEPROCESS_TOKEN); required")] = None,
) -> None:
    """Open a decision case from a case file, or from flags (as its opening official)."""
    from dueprocess.services.case_opening import open_case_as
    from dueprocess.services.cases import read_case_file

    if case_file is not None:
        request = read_case_file(case_file)
    else:
        data: dict[str, Any] = {
            "title": title, "organ": organ, "undertaking_unit": undertaking_unit,
            "legal_basis": legal_basis or [], "opened_by": opened_by, "procedure": procedure,
            "draft": {"title": draft_title or title,
                      "text": draft_file.read_text(encoding="utf-8") if draft_file else None},
            "assignments": _parse_assignments(assign or []),
            "proposal": {"summary": proposal} if proposal else None,
        }
        from dueprocess.services.cases import validate_case_request

        request = validate_case_request(data, source="flags")
    problem = prefect_api_problem() if start else None
    if problem:
        from dueprocess.orchestration.events import disable_prefect_events

        disable_prefect_events()
    ready()
    with working("opening the case …"):
        case = open_case_as(request=request, token=token, channel="cli")
    console.print(f"Opened case [bold]{case.id}[/]: {case.title}")
    if start:
        _start_run(case.id, problem)


def _start_run(case_id: str, problem: str | None) -> None:
    if problem:
        console.print(f"flow run not started: {problem}", highlight=False, soft_wrap=True)
        paste(f"then start it with: dueprocess recover {case_id}")
        return
    with working("starting the case's flow run …"):
        from dueprocess.orchestration.case_runs import start_case_run

        started = try_prefect("flow run", lambda: f"flow run {start_case_run(case_id)}")
    console.print(started, highlight=False)


def _parse_assignments(values: list[str]) -> dict[str, list[str]]:
    assignments: dict[str, list[str]] = {}
    for value in values:
        stage, sep, handles = value.partition("=")
        if not sep or not stage or not handles:
            raise DueProcessError(f"--assign: expected STAGE=HANDLE[,HANDLE], got '{value}'")
        assignments.setdefault(stage.strip(), []).extend(
            h.strip() for h in handles.split(",") if h.strip()
        )
    return assignments


def cases_command() -> None:
    """List decision cases, newest first."""
    from sqlmodel import col, select

    from dueprocess.commands.render import cases_table
    from dueprocess.db import session_scope
    from models.cases import DecisionCase

    # The one query of `dueprocess.services.cases.list_cases`, without importing the case
    # services and the rules they load: that would double the command's start-up.
    with session_scope() as session:
        cases = list(session.exec(
            select(DecisionCase).order_by(col(DecisionCase.opened_at).desc())))
    console.print(cases_table(cases))


def status_command(case_id: Annotated[str, typer.Argument(help="Case id")]) -> None:
    """Show each stage of a case and why it is blocked."""
    from dueprocess.commands.render import print_case
    from dueprocess.services.case_view import case_view

    print_case(console, case_view(case_id))


def _read_evidence(path: Path) -> dict[str, Any]:
    from dueprocess.services.payloads import loads_json

    try:
        data = loads_json(path.read_text(encoding="utf-8"), field=f"--file {path}")
    except FileNotFoundError:
        raise DueProcessError(f"--file {path}: not found") from None
    except UnicodeDecodeError:
        raise DueProcessError(f"--file {path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise DueProcessError(
            f"--file {path}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    if not isinstance(data, dict):
        raise DueProcessError(f"--file {path}: expected a JSON object of evidence fields")
    return data


def _audit_unreadable(*, case_id: str, stage: str, recorded_by: str, key: str | None,
                      exc: TooDeep) -> None:
    """Audit evidence refused before it could be read, as `record_evidence` audits its
    refusals (for a case that exists: a refusal record belongs to a case)."""
    from dueprocess.db import session_scope
    from dueprocess.services.cases import get_case
    from dueprocess.services.refusal_audit import RECORD, audit_refusal
    from models.base import utcnow

    try:
        with session_scope() as session:
            get_case(session, case_id)
    except NotFound:
        return
    audit_refusal(case_id=case_id, action=RECORD, stage_key=stage, submitted_by=recorded_by,
                  channel="cli", idempotency_key=key, problems=(exc.as_unmet(),), now=utcnow())


def record_command(
    case_id: Annotated[str, typer.Argument(help="Case id")],
    stage: Annotated[str, typer.Argument(help="Stage key, e.g. legality_review")],
    file: Annotated[Path, typer.Option("--file", "-f", help="Evidence JSON file")],
    recorded_by: Annotated[str, typer.Option("--as", help="Your handle")],
    key: Annotated[str | None, typer.Option(help="Idempotency key")] = None,
    resume: Annotated[bool, typer.Option(help="Resume the waiting flow run")] = True,
    token: Annotated[str | None, typer.Option(
        envvar="DUEPROCESS_TOKEN", show_default=False,
        help="Your API token (default: DUEPROCESS_TOKEN); required")] = None,
) -> None:
    """Validate and store stage evidence, then resume the case's waiting flow run."""
    from dueprocess.services.payloads import TooDeep
    from dueprocess.services.recording import record_evidence

    try:
        evidence = _read_evidence(file)
    except TooDeep as exc:
        ready()
        _audit_unreadable(case_id=case_id, stage=stage, recorded_by=recorded_by, key=key,
                          exc=exc)
        raise Refused([exc.as_unmet()]) from None
    problem = prefect_api_problem() if resume else None
    if problem:
        from dueprocess.orchestration.events import disable_prefect_events

        disable_prefect_events()
    ready()
    with working("validating and recording the evidence …"):
        item = record_evidence(case_id=case_id, stage_key=stage, recorded_by=recorded_by,
                               evidence=evidence, idempotency_key=key, channel="cli",
                               token=token)
    console.print(f"Recorded evidence #{item.id} for {stage} (sha256 {item.payload_sha256})")
    if resume:
        _resume(item, problem)


def _resume(item: Any, problem: str | None) -> None:
    if problem:
        console.print(f"flow run not resumed: {problem}", highlight=False, soft_wrap=True)
        console.print("The evidence is stored; the case's run reads it when it next advances "
                      "(`dueprocess up` recovers every open case).", highlight=False)
        return
    with working("waiting for the case's flow run to reach its gate …"):
        from dueprocess.orchestration.case_runs import resume_after_recording

        outcome = try_prefect("resume", lambda: resume_after_recording(item))
    console.print(outcome, highlight=False)


def serve_command() -> None:
    """Serve the dueprocess deployments (flow runs start in subprocesses)."""
    from deployments.serve import main

    ready()
    main()


def demo_command(
    programme: Annotated[bool, typer.Option(
        "--programme", help="A year of the practical-matters programme instead")] = False,
    inbox: Annotated[bool, typer.Option(
        "--inbox", help="Leave a case waiting for reviewers, with the portal's inbox and a "
        "local OpenID Connect provider, until Ctrl-C (needs dueprocess[demo])")] = False,
) -> None:
    """Run one realistic case end to end with scripted reviewers."""
    if programme and inbox:
        raise DueProcessError("--programme and --inbox: choose one demo")
    if inbox:
        from dueprocess.demo.inbox import run_inbox_demo

        run_inbox_demo(console)
        return
    if programme:
        from dueprocess.demo.programme import run_programme_demo

        run_programme_demo(console)
        return
    from dueprocess.demo.run import run_demo

    run_demo(console)


def register(app: typer.Typer) -> None:
    """Add the case commands to the CLI."""
    app.command("open")(open_command)
    app.command("cases")(cases_command)
    app.command("status")(status_command)
    app.command("record")(record_command)
    app.command("serve")(serve_command)
    app.command("demo")(demo_command)
