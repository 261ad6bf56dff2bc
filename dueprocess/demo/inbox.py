"""`dueprocess demo --inbox`: try the reviewer inbox on your own machine.

It starts, on loopback, what a district runs for its reviewers: a Prefect server with the
served deployments, an OpenID Connect provider (oidc-provider-mock, standing in for the
district's identity platform) and the portal with its inbox. The demo's people are linked
to the provider's subjects of the same name, the parking-fee case is opened on simulated
time, and its flow run waits at its first gate for the reviewers of public participation,
expert argumentation and risk assessment. Log in as one of them, fill in a form, and watch
the case in the Prefect UI. The stack stays up until Ctrl-C (or SIGTERM), then stops
every process it started.
"""

from __future__ import annotations

import os
import secrets
import signal
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import uvicorn
from rich.console import Console
from sqlmodel import col, select

from dueprocess.cli_kit import working
from dueprocess.composition.portal import create_app
from dueprocess.db import migrate, session_scope
from dueprocess.demo import submissions
from dueprocess.demo.notices import start_demo_channels
from dueprocess.demo.run import demo_stack, patience
from dueprocess.errors import DueProcessError
from dueprocess.services.administration import publish_credential
from dueprocess.services.case_clock import advance_clock_to
from dueprocess.services.cases import open_case, read_case_file
from dueprocess.services.identity import link_oidc_subject
from dueprocess.settings import InboxSettings, get_portal_settings, get_settings
from dueprocess.stack.record import check_port_free
from models.base import utcnow
from models.people import Assignment, Person
from portal.app import server_config

CASE_FILE = Path(__file__).parent / "case.yaml"
# The stages open at the first gate, and the day their reviewers work on (the case clock).
REVIEWS = ("public_participation", "expert_review", "risk_assessment")


class _Stop(Exception):
    """Ctrl-C or SIGTERM: stop the stack."""


def run_inbox_demo(console: Console) -> None:
    os.environ["DUEPROCESS_ALLOW_SIMULATED_TIME"] = "true"  # a demo stack, as `demo`'s
    get_settings.cache_clear()
    data_dir = get_settings().data_dir
    portal = get_portal_settings()
    check_port_free(portal.portal_host, portal.portal_port, "DUEPROCESS_PORTAL_PORT")
    console.print(f"[bold]dueprocess demo --inbox[/] — data directory {data_dir}")
    migrate()
    start_demo_channels(data_dir)  # notices go to a receiver on loopback
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with demo_stack(console, data_dir) as api_url, _provider() as issuer:
            case_id = _case_waiting_for_reviewers(console)
            people = _linked_people(issuer)
            portal_url = f"http://{portal.portal_host}:{portal.portal_port}"
            with _portal(portal.portal_host, portal.portal_port, issuer, portal_url):
                _print_how_to_try(console, case_id, people, portal_url,
                                  api_url.removesuffix("/api"), issuer)
                while True:
                    time.sleep(0.5)
    except _Stop as stop:
        console.print(f"\n[bold]{stop} received[/]: stopping the inbox demo")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    console.print("stopped; no process of the demo is left")


def _stop(signum: int, _frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def _case_waiting_for_reviewers(console: Console) -> str:
    from dueprocess.orchestration.case_runs import (  # deferred: Prefect, once PREFECT_* are set
        start_case_run,
        wait_for_gate,
    )

    with session_scope() as session:
        case = open_case(session, request=read_case_file(CASE_FILE))
    console.print(f"  case {case.id} opened: {case.title}")
    start_case_run(case.id)
    with working("waiting for its flow run to reach the first gate …", on=console):
        gate = wait_for_gate(case.id, timeout=patience(120))
    if gate is None:
        raise DueProcessError(f"case {case.id}: its flow run did not reach its first gate; "
                              f"see {get_settings().data_dir / 'runner.log'}")
    # The reviewers work on the day the demo's reports are dated (simulated time).
    advance_clock_to(case_id=case.id, person="demo",
                     moment=max(submissions.recorded_at(s) for s in REVIEWS[1:]))
    return case.id


def _linked_people(issuer: str) -> list[Person]:
    """Every registered person, each linked to the provider's subject of their handle."""
    with session_scope() as session:
        people = list(session.exec(select(Person).order_by(Person.handle)).all())
        for person in people:
            credential = link_oidc_subject(session, handle=person.handle, issuer=issuer,
                                           subject=person.handle)
            publish_credential(session, credential, kind="credential.issued",
                               handle=person.handle, by=None, now=utcnow())
        for person in people:
            session.expunge(person)
    return people


@contextmanager
def _provider() -> Iterator[str]:
    with warnings.catch_warnings():  # its authlib's deprecations are not the user's concern
        warnings.simplefilter("ignore")
        from oidc_provider_mock import (  # deferred: the optional extra dueprocess[demo]
            run_server_in_thread,
        )

    with run_server_in_thread(require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


@contextmanager
def _portal(host: str, port: int, issuer: str, public_url: str) -> Iterator[None]:
    app = create_app(get_portal_settings())
    app.state.inbox_settings = InboxSettings(
        cookie_secure=False, oidc_issuer=issuer, public_url=public_url,
        oidc_client_secret=secrets.token_urlsafe(16))
    server = uvicorn.Server(server_config(app, host=host, port=port))
    thread = threading.Thread(target=server.run, name="portal", daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.05)
    if not server.started:
        raise DueProcessError(f"DUEPROCESS_PORTAL_PORT: the portal did not start on {port}")
    try:
        yield
    finally:
        server.should_exit = True
        thread.join()


def _print_how_to_try(console: Console, case_id: str, people: list[Person], portal_url: str,
                      prefect_ui: str, issuer: str) -> None:
    reviewers = _reviewers(case_id)
    console.print(f"\n[bold green]The inbox is up:[/] {portal_url}/inbox", highlight=False)
    console.print(f"  Log in with OpenID Connect; at the provider's page ({issuer}) type a "
                  "handle below as the subject.", highlight=False)
    names = {p.handle: p.name for p in people}
    for stage, handles in reviewers.items():
        for handle in handles:
            console.print(f"  - {handle:<10} {names.get(handle, handle)}: {stage}",
                          highlight=False)
    console.print(f"  Case {case_id}: {portal_url}/cases/{case_id}; its flow run: "
                  f"{prefect_ui}/runs (tag case:{case_id})", highlight=False)
    console.print("Press Ctrl-C to stop.")


def _reviewers(case_id: str) -> dict[str, list[str]]:
    """The handles assigned to each stage open at the first gate."""
    with session_scope() as session:
        rows = session.exec(select(Assignment.stage_key, Person.handle).join(
            Person, col(Person.id) == col(Assignment.person_id)).where(
            Assignment.case_id == case_id, col(Assignment.stage_key).in_(REVIEWS))).all()
    return {stage: sorted(h for s, h in rows if s == stage) for stage in REVIEWS}
