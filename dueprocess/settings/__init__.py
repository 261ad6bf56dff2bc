"""Every `DUEPROCESS_*` setting, read from environment variables (or a `.env` file).

One module per section, each a pydantic-settings class with its getter; every variable is
declared in exactly one section, and a section that needs another's value (the data
directory, for instance) reads it from that section. `REGISTRY` names every section:
`docs/settings.md` is generated from it (`python -m dueprocess.settings.reference --write`)
and `tests/dueprocess/test_settings_registry.py` checks that nothing is declared twice or
outside it. Importing this package costs pydantic-settings and the standard library only.

- `Settings` (`core`): the case database, evidence limits, how a gate waits.
- `OpsSettings` (`ops`): events, supervision deadlines, recovery, `dueprocess up`; a bad
  value raises an error naming its environment variable.
- `TransparencySettings` (`transparency`): the transparency log's key and tree heads.
- `NotifySettings` (`notify`): notices, subscriber URL encryption, delivery.
- `PortalSettings` (`portal`): the public portal's process and input limits.
- `PresentationSettings` (`presentation`): the portal's time zone and feed ids.
- `InboxSettings` (`inbox`): the reviewer inbox (`DUEPROCESS_PORTAL_*`).
- `EvaluationSettings` (`evaluation`): when an evaluation after the decision falls due.
- `CodeSettings` (`codes`): one-time codes: channel canonicalisation, attempt limits.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings

from dueprocess.settings.codes import CodeSettings, get_code_settings
from dueprocess.settings.core import Settings, get_settings
from dueprocess.settings.evaluation import EvaluationSettings, get_evaluation_settings
from dueprocess.settings.inbox import InboxSettings, get_inbox_settings
from dueprocess.settings.notify import (
    DEFAULT_SUBSCRIBER_SCHEMES,
    NotifySettings,
    get_notify_settings,
)
from dueprocess.settings.ops import (
    DEFAULT_STAGE_DEADLINE_DAYS,
    FALLBACK_STAGE_DEADLINE_DAYS,
    OpsSettings,
    get_ops_settings,
)
from dueprocess.settings.portal import Network, PortalSettings, get_portal_settings, parse_networks
from dueprocess.settings.presentation import PresentationSettings, get_presentation_settings
from dueprocess.settings.transparency import TransparencySettings, get_transparency_settings

# Every section, in the order of docs/settings.md.
REGISTRY: tuple[type[BaseSettings], ...] = (
    Settings,
    OpsSettings,
    TransparencySettings,
    NotifySettings,
    PortalSettings,
    PresentationSettings,
    InboxSettings,
    EvaluationSettings,
    CodeSettings,
)

__all__ = [
    "DEFAULT_STAGE_DEADLINE_DAYS",
    "DEFAULT_SUBSCRIBER_SCHEMES",
    "FALLBACK_STAGE_DEADLINE_DAYS",
    "REGISTRY",
    "CodeSettings",
    "EvaluationSettings",
    "InboxSettings",
    "Network",
    "NotifySettings",
    "OpsSettings",
    "PortalSettings",
    "PresentationSettings",
    "Settings",
    "TransparencySettings",
    "get_code_settings",
    "get_evaluation_settings",
    "get_inbox_settings",
    "get_notify_settings",
    "get_ops_settings",
    "get_portal_settings",
    "get_presentation_settings",
    "get_settings",
    "get_transparency_settings",
    "parse_networks",
]
