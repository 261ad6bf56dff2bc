"""The scale-out compose file publishes nothing beyond loopback and has no fixed secret;
`dueprocess up` and the portal bind to loopback unless told otherwise."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "deployments" / "compose.yaml"


def test_every_published_port_is_on_loopback() -> None:
    services = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    published = [port for service in services.values() for port in service.get("ports", [])]
    assert published, "expected the API and database ports to be published"
    assert all(str(port).startswith("127.0.0.1:") for port in published), published


def test_secrets_are_required_variables_never_defaults() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    uses = re.findall(r"\$\{(PREFECT_[A-Z_]+)([^}]*)\}", text)
    assert {name for name, _ in uses} >= {"PREFECT_DB_PASSWORD",
                                          "PREFECT_SERVER_API_AUTH_STRING"}
    # `:?` makes compose refuse to start without the variable; `:-` would be a default.
    assert all(rest.startswith(":?") for _, rest in uses), uses
    assert ":prefect@" not in text and "PASSWORD: prefect" not in text
    services = yaml.safe_load(text)["services"]
    for api in ("api-a", "api-b", "services"):
        assert "PREFECT_SERVER_API_AUTH_STRING" in services[api]["environment"]


def test_up_and_the_portal_bind_to_loopback_by_default() -> None:
    from dueprocess.settings import OpsSettings, PortalSettings

    assert OpsSettings.model_fields["ui_host"].default == "127.0.0.1"
    assert PortalSettings.model_fields["portal_host"].default == "127.0.0.1"
