"""deployments/prefect.yaml says what deployments/definitions.py says."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from deployments.definitions import DeploymentSpec, specs

PREFECT_YAML = Path(__file__).resolve().parents[2] / "deployments" / "prefect.yaml"


def words(text: str) -> str:
    return " ".join(text.split())


def yaml_deployments() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))
    assert data["pull"] == [], "workers run installed code: nothing to pull"
    return {d["name"]: d for d in data["deployments"]}


def trigger_as_yaml(trigger: Any) -> dict[str, Any]:
    return {
        "name": trigger.name, "expect": sorted(trigger.expect),
        "match": trigger.match.model_dump(), "match_related":
            trigger.match_related.model_dump() if not isinstance(trigger.match_related, list)
            else [m.model_dump() for m in trigger.match_related],
        "parameters": trigger.parameters,
        **({"schedule_after": int(trigger.schedule_after.total_seconds())}
           if trigger.schedule_after else {}),
    }


@pytest.mark.parametrize("spec", specs(), ids=lambda s: s.name)
def test_prefect_yaml_matches_the_python_definition(spec: DeploymentSpec) -> None:
    deployed = yaml_deployments()[spec.name]
    assert deployed["entrypoint"] == spec.entrypoint
    assert spec.load_flow().name == spec.entrypoint.rsplit(".", 1)[-1].replace("_", "-")
    assert words(deployed["description"]) == words(spec.description)
    assert deployed["tags"] == list(spec.tags)
    assert deployed["work_pool"]["name"] == "dueprocess"
    intervals = [s["interval"] for s in deployed.get("schedules", [])]
    # The YAML carries the default intervals of the settings named in its comments.
    assert intervals == ([spec.interval_seconds] if spec.interval_seconds else [])
    assert ("concurrency_limit" in deployed) == bool(spec.limit)
    if spec.limit:
        assert deployed["concurrency_limit"] == {"limit": spec.limit,
                                                 "collision_strategy": "CANCEL_NEW"}
    in_yaml = [{**t, "expect": sorted(t["expect"]), "match": t.get("match", {}),
                "match_related": t.get("match_related", {})} for t in deployed.get("triggers", [])]
    for trigger in in_yaml:
        assert trigger.pop("type") == "event" and trigger.pop("enabled") is True
    assert in_yaml == [trigger_as_yaml(t) for t in spec.triggers]


def test_every_maintenance_deployment_cancels_runs_beyond_its_limit() -> None:
    """Back-pressure (issue 23): only the case runs themselves are not limited here (the
    runner's process limit bounds them)."""
    unlimited = {spec.name for spec in specs() if not spec.limit}
    assert unlimited == {"major-decision"}
    # What `prefect deploy` reads (the served deployments take the specs' own kwargs).
    for name, deployed in yaml_deployments().items():
        limit = deployed.get("concurrency_limit")
        if name in unlimited:
            assert limit is None, name
        else:
            assert limit == {"limit": next(s.limit for s in specs() if s.name == name),
                             "collision_strategy": "CANCEL_NEW"}, name


def test_every_deployment_is_in_both() -> None:
    assert set(yaml_deployments()) == {s.name for s in specs()} == {
        "major-decision", "resume-case", "deadline-watchdog", "notify-reviewers",
        "publish-decision", "deliver-notices", "sign-heads"}


def test_the_compose_servers_are_configured_as_the_scale_out_test_runs_them() -> None:
    from tests.scaleout.harness import ScaleOut

    compose = yaml.safe_load((PREFECT_YAML.parent / "compose.yaml").read_text(encoding="utf-8"))
    tested = ScaleOut(Path("/tmp"), "p", "c", redis_db=3).server_env()
    prefect_keys = {k for k in tested if k.startswith("PREFECT_") and k not in (
        "PREFECT_HOME", "PREFECT_LOGGING_LEVEL")}
    for name in ("migrate", "api-a", "api-b", "services"):
        environment = compose["services"][name]["environment"]
        assert prefect_keys <= set(environment), (name, prefect_keys - set(environment))
        for key in ("PREFECT_MESSAGING_BROKER", "PREFECT_MESSAGING_CACHE",
                    "PREFECT_SERVER_EVENTS_CAUSAL_ORDERING",
                    "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE"):
            assert environment[key] == tested[key]
    assert compose["services"]["services"]["command"][-2:] == ["services", "start"]
    assert all("--no-services" in compose["services"][api]["command"]
               for api in ("api-a", "api-b"))


def test_the_example_settings_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    from dueprocess.settings import OpsSettings

    example = PREFECT_YAML.parent / "scale-out.env.example"
    values = {}
    for line in example.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value.split("#")[0].strip()
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    settings = OpsSettings()
    assert settings.deadline_days("legality_review", "legality_review") == 20
    assert values["DUEPROCESS_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert {"PREFECT_API_URL", "PREFECT_WORKER_QUERY_SECONDS"} <= set(values)


@pytest.mark.parametrize(("environment", "interval"), [
    ({}, 60),  # the bound on the unsigned tail
    ({"DUEPROCESS_MAX_UNSIGNED_SECONDS": "120"}, 120),
    ({"DUEPROCESS_SIGN_HEADS_INTERVAL_SECONDS": "15"}, 15),  # the operator's, when lower
    ({"DUEPROCESS_SIGN_HEADS_INTERVAL_SECONDS": "300"}, 60),  # never above the bound
    ({"DUEPROCESS_SIGN_HEADS_INTERVAL_SECONDS": "0"}, None),  # not scheduled
])
def test_the_sign_heads_schedule_follows_the_unsigned_tail_bound(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], interval: int | None,
) -> None:
    for key in ("DUEPROCESS_MAX_UNSIGNED_SECONDS", "DUEPROCESS_SIGN_HEADS_INTERVAL_SECONDS"):
        monkeypatch.delenv(key, raising=False)
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    [sign_heads] = [spec for spec in specs() if spec.name == "sign-heads"]
    assert sign_heads.interval_seconds == interval
    assert sign_heads.deployment_kwargs().get("interval") == (
        timedelta(seconds=interval) if interval else None)
