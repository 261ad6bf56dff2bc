"""The system's own runs are named `<deployment> HH:MM` (Beijing time) and tagged
`system`; a case's run is not."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from deployments.definitions import MAJOR_DECISION, specs


def test_only_the_case_runs_lack_the_system_tag() -> None:
    untagged = {spec.name for spec in specs() if "system" not in spec.tags}
    assert untagged == {MAJOR_DECISION}


def test_a_system_run_is_named_by_its_flow_and_the_beijing_time(prefect_server: str) -> None:
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.runtime import flow_run

    from flows.system_runs import system_run_name

    @flow(name="probe-system", flow_run_name=system_run_name)
    def probe() -> str:
        return str(flow_run.id)

    before = datetime.now(UTC)
    run_id = probe()
    with get_client(sync_client=True) as client:
        name = client.read_flow_run(UUID(run_id)).name
    match = re.fullmatch(r"probe-system (\d\d):(\d\d)", name)
    assert match, name
    beijing = {f"{(before + timedelta(minutes=m)).astimezone(ZoneInfo('Asia/Shanghai')):%H:%M}"
               for m in (0, 1, 2)}
    assert f"{match[1]}:{match[2]}" in beijing, (name, beijing)


@pytest.mark.parametrize("case_id", ["dp-2026-000001", None])
def test_a_run_about_a_case_names_it(monkeypatch: pytest.MonkeyPatch,
                                     case_id: str | None) -> None:
    from prefect.runtime import deployment, flow_run

    from flows import system_runs

    monkeypatch.setattr(deployment, "name", "resume-case", raising=False)
    monkeypatch.setattr(flow_run, "parameters", {"case_id": case_id}, raising=False)
    monkeypatch.setattr(flow_run, "scheduled_start_time",
                        datetime(2026, 3, 1, 7, 32, tzinfo=UTC), raising=False)
    expected = "resume-case dp-2026-000001 15:32" if case_id else "resume-case 15:32"
    assert system_runs.system_run_name() == expected
