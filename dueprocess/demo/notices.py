"""The demo's notification channel: a webhook receiver on loopback, configured as the
operators' Apprise channel for every audience, and the delivery of the case's notices."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from sqlmodel import col, func, select

from dueprocess.cli_kit import working
from dueprocess.db import session_scope
from dueprocess.settings import get_notify_settings
from models.notices import Notice
from models.procedure import load_procedure
from notifications.audiences import OFFICIALS, PUBLIC, reviewers_tag
from notifications.transport.receiver import WebhookReceiver


def demo_audiences() -> tuple[str, ...]:
    """Every tag the demo case's notices use, so the receiver hears all of them."""
    stages = load_procedure("decree-713").stage_keys
    return (PUBLIC, OFFICIALS, *(reviewers_tag(stage) for stage in stages))


@dataclass(frozen=True)
class DemoChannels:
    receiver: WebhookReceiver
    config: Path
    log: Path


def start_demo_channels(data_dir: Path) -> DemoChannels:
    """Start the receiver and point DUEPROCESS_APPRISE_CONFIG at it (before the runner
    starts, so the delivery flow runs see it)."""
    log = data_dir / "received-notices.jsonl"
    receiver = WebhookReceiver(log=log).start()
    config = data_dir / "apprise.yaml"
    config.write_text(f'version: 1\nurls:\n  - "{receiver.url}":\n'
                      f"      tag: {', '.join(demo_audiences())}\n", encoding="utf-8")
    os.environ["DUEPROCESS_APPRISE_CONFIG"] = str(config)
    return DemoChannels(receiver, config, log)


def _unsettled(case_id: str) -> int:
    with session_scope() as session:
        return int(session.exec(select(func.count()).select_from(Notice).where(
            Notice.case_id == case_id, col(Notice.settled_at).is_(None))).one())


def deliver_demo_notices(console: Console, case_id: str, channels: DemoChannels) -> None:
    """Run the served deliver-notices deployment until the case's notices are settled,
    and show what the receiver got. (A scheduled run may be delivering already: the
    deployment runs one at a time, so a second run is cancelled and tried again.)"""
    from prefect.deployments import run_deployment  # deferred: Prefect, once PREFECT_* are set

    deadline = time.monotonic() + 120
    while _unsettled(case_id) and time.monotonic() < deadline:
        with working("running the deliver-notices deployment …", on=console):
            run = run_deployment("deliver-notices/deliver-notices", timeout=60)
        state = getattr(run, "state", None)
        console.print(f"  deliver-notices flow run {getattr(run, 'id', '?')}: "
                      f"{state.name if state else 'unknown'}"
                      f"{' (' + state.message + ')' if state and state.message else ''}",
                      highlight=False)
        if _unsettled(case_id):
            time.sleep(1)
    received = channels.receiver.accepted
    console.print(f"  the local receiver {channels.receiver.url} took {len(received)} notices "
                  f"(log: {channels.log}):", highlight=False)
    for notice in received:
        console.print(f"    - {notice['title']}", highlight=False, markup=False)


def print_portal_hint(console: Console, case_id: str, data_dir: Path) -> None:
    url = get_notify_settings().portal_url.rstrip("/")
    console.print(f"Public pages: run `DUEPROCESS_DATA_DIR={data_dir} dueprocess portal`, then "
                  f"open {url}/cases/{case_id} (all cases: {url}/, Atom feed: "
                  f"{url}/feed.atom, JSON API: {url}/openapi.json)", highlight=False)
