"""One-time codes that prove a resident controls a channel (an Apprise URL): a public
voter's, or a resident asking for an evaluation. The code goes to the channel through
Apprise; whoever receives it controls the channel. Only its digest is stored, and it
works once, for `CODE_TTL`."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from dueprocess.errors import Refused
from dueprocess.rules.engine import Unmet
from dueprocess.settings import get_notify_settings
from notifications.delivery import quiet_apprise
from notifications.transport.channels import check_subscriber_url, privacy_form

CODE_TTL = timedelta(minutes=15)


def new_code() -> str:
    return f"{secrets.randbelow(10**8):08d}"


def send_code_to(*, channel_url: str, issue: Callable[[str], str], title: str,
                 purpose: str, rule: str, rules: str) -> str:
    """Check the channel, have `issue(canonical URL)` store a code and return it, and deliver
    it; returns the channel in privacy form. A delivery that fails is refused as `rule` of
    the caller's `rules`."""
    settings = get_notify_settings()
    plugin = check_subscriber_url(channel_url, schemes=settings.notify_subscriber_schemes,
                                  allow_private=settings.notify_allow_private_targets)
    code = issue(str(plugin.url()))
    quiet_apprise()
    try:
        ok = plugin.notify(title=title, body=f"Your one-time code {purpose}: {code} (valid "
                                             f"{int(CODE_TTL.total_seconds() // 60)} minutes).")
    except Exception:
        ok = False
    if not ok:
        raise Refused([Unmet(rule, rules, "url: the code could not be delivered to "
                                          f"{privacy_form(plugin)}; check the address")])
    return str(privacy_form(plugin))
