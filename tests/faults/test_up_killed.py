"""`dueprocess up` itself SIGKILLed mid-case, then `dueprocess down`, then `up` again, with
PREFECT_API_URL exported to the very stack `up` starts (as `up` tells the operator to):
`down` leaves no process of the stack, the new `up` starts on the same port, the case
completes with every evidence item once, and no notice is sent twice."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from dueprocess.stack.record import read_record
from tests.faults.harness import (
    KillingReceiver,
    UpProcess,
    assert_completed_once,
    open_case,
    record,
    wait_until,
)
from tests.scaleout.harness import pointed_at
from tests.support import RUNS_ONCE, startups

pytestmark = [pytest.mark.slow, pytest.mark.timeout(0), RUNS_ONCE]


@pytest.fixture
def receiver() -> Iterator[KillingReceiver]:
    receiver = KillingReceiver()
    receiver.kill_next = False  # a plain receiver: it counts each notice's arrivals
    yield receiver
    receiver.stop()


def test_up_killed_then_down_then_up(tmp_path: Path, receiver: KillingReceiver) -> None:
    stack = UpProcess(tmp_path / "data")
    stack.extra_env.update({
        "PREFECT_API_URL": f"http://127.0.0.1:{stack.port}/api",  # exported, as told
        "DUEPROCESS_WATCHDOG_INTERVAL_SECONDS": "20",
        "DUEPROCESS_NOTIFY_DELIVERY_INTERVAL_SECONDS": "20",
        "DUEPROCESS_NOTIFY_LEASE_SECONDS": "3",
    })
    receiver.write_apprise_config(stack.data_dir / "apprise.yaml", "public, officials")
    stack.start()
    try:
        with pointed_at(stack.database_url, stack.api_url):
            case_id = open_case(stack)
            for index in (0, 1, 2, 3):
                record(case_id, index)
            left = read_record(stack.data_dir)
            assert left is not None and {m.name for m in left.children} == {
                "prefect-server", "runner"}
            assert stack.process is not None
            stack.process.send_signal(signal.SIGKILL)  # `up` alone: its children remain
            stack.process.wait(timeout=startups(5))

            down = stack.cli("down")
            assert down.returncode == 0, down.stdout + down.stderr
            assert f"`dueprocess up` (pid {left.up.pid}) is gone" in " ".join(down.stdout.split())
            assert not stack.leftovers(), "down left processes of the stack"
            assert not any(member.alive() for member in left.children)
            assert read_record(stack.data_dir) is None

            stack.start()  # the same port, PREFECT_API_URL still exported
            for private in (stack.data_dir / "cases.db", stack.data_dir / "prefect" / "prefect.db",
                            stack.data_dir / "stack.json"):
                assert private.stat().st_mode & 0o777 == 0o600, private
            assert stack.data_dir.stat().st_mode & 0o777 == 0o700
            for index in range(4, 8):
                record(case_id, index)
            assert_completed_once(case_id)
            wait_until(lambda: receiver.arrivals, timeout=startups(30), what="notices")
            twice = {key: n for key, n in receiver.arrivals.items() if n > 1}
            assert not twice, f"notices sent more than once: {twice}"
    finally:
        if stack.process is not None and stack.process.poll() is None:
            assert stack.stop(signal.SIGTERM) == 0, stack.output()
    assert "no process of the stack is left" in stack.output()
    assert not stack.leftovers()
