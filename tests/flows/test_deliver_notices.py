"""The deliver-notices deployment, served against the session's Prefect test server."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlparse

import pytest
from prefect.deployments import run_deployment

from dueprocess.services.progress import advance_case
from notifications.subscriptions import confirm, subscribe
from notifications.transport.receiver import WebhookReceiver
from tests.flows.conftest import final_state
from tests.support import startups

pytestmark = [pytest.mark.flow, pytest.mark.slow]
DEPLOYMENT = "deliver-notices/deliver-notices"


def wait_for_registration(timeout: float = 120) -> None:
    """The runner registers its deployments one after the other."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            try:
                client.read_deployment_by_name(DEPLOYMENT)
                return
            except ObjectNotFound:
                assert time.monotonic() < deadline, f"{DEPLOYMENT} never registered"
                time.sleep(0.5)


def test_the_served_flow_delivers_each_notice_once(
    prefect_server: str, case_id: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DUEPROCESS_NOTIFY_ALLOW_PRIVATE_TARGETS", "true")  # loopback receiver
    wait_for_registration()
    receiver = WebhookReceiver().start()
    try:
        subscribe(url=receiver.url, case_id=case_id)
        link = re.search(r"\?s=\d+&t=\S+", receiver.accepted[0]["message"])
        assert link is not None
        query = parse_qs(urlparse(link.group(0)).query)
        confirm(subscriber_id=int(query["s"][0]), token=query["t"][0])
        advance_case(case_id=case_id)  # queues the call for comments for the case's followers

        # The deployment has one slot, which event-triggered and scheduled runs also take:
        # ours is cancelled while another holds it. Whichever run gets it delivers.
        deadline = time.monotonic() + startups(60)
        while sum(receiver.arrivals.values()) < 2:
            assert time.monotonic() < deadline, "the notice was never delivered"
            run = run_deployment(DEPLOYMENT, timeout=0, parameters={"max_batches": 10})
            state = final_state(run.id)  # type: ignore[union-attr]
            assert state.is_completed() or "concurrency limit" in (state.message or ""), state
            if not state.is_completed():
                time.sleep(2)
        while not (state := final_state(run_deployment(  # type: ignore[union-attr]
                DEPLOYMENT, timeout=0, parameters={"max_batches": 10}).id)).is_completed():
            assert time.monotonic() < deadline, state
            time.sleep(2)  # one more completed run after delivery: it must not repeat

        notices = receiver.accepted[1:]
        assert [n["title"][:5] for n in notices] == ["征求意见："]
        assert "Zhongguancun" in notices[0]["message"]
        assert sum(receiver.arrivals.values()) == 2  # confirmation + one notice, no repeat
    finally:
        receiver.stop()
