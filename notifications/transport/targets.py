"""Where a public subscription may send: public internet addresses only.

A subscription makes the portal connect out at once (the confirmation message), so an
address such as `json://127.0.0.1:5432/` or `json://169.254.169.254/` would let anyone probe
the hosts behind the portal, or reach a cloud metadata service. Every host a subscriber's
plugin would connect to is resolved, and every address it resolves to must be public:
not loopback, private, shared (CGNAT), link-local, site-local, multicast, reserved,
unspecified or documentation space, in IPv4 or IPv6, including IPv4 addresses embedded in
IPv6 (IPv4-mapped, 6to4, NAT64). A name that does not resolve is refused the same way, so
the answer never tells an internal name from a missing one.

The check runs before the connection; a name whose DNS answer changes in between (DNS
rebinding) is not covered here.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], list[str]]

# These plugins' URLs carry tokens, not hosts: they always connect to their vendor's API.
VENDOR_ENDPOINT_PLUGINS = frozenset({
    "NotifyTelegram", "NotifyDiscord", "NotifySlack", "NotifyDingTalk", "NotifyWeComBot",
    "NotifyFeishu", "NotifyLark",
})
NAT64_PREFIXES = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


def target_hosts(plugin: Any) -> list[str]:
    """The host names or addresses an Apprise plugin connects to, as the URL gave them."""
    kind = type(plugin).__name__
    if kind in VENDOR_ENDPOINT_PLUGINS:
        return []
    mode = getattr(plugin, "mode", None)
    if kind == "NotifyNtfy" and mode != "private":
        return []  # ntfy://topic posts to ntfy.sh
    if kind == "NotifyMatrix" and mode == "t2bot":
        return []
    host = getattr(plugin, "smtp_host", None) if kind == "NotifyEmail" else None
    host = host or getattr(plugin, "host", None)
    return [str(host).strip("[]")] if host else []


def is_public_address(address: IPAddress) -> bool:
    """Whether `address` is a public unicast internet address (and so is any IPv4 address
    it embeds)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and any(address in prefix for prefix in NAT64_PREFIXES):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not is_public_address(embedded):
            return False
        if address.ipv4_mapped is not None:
            return True  # the embedded IPv4 address decides
        if address.is_site_local:
            return False
    return address.is_global and not (
        address.is_multicast or address.is_private or address.is_reserved
        or address.is_loopback or address.is_link_local or address.is_unspecified
    )


def resolve_host(host: str) -> list[str]:
    """Every address `host` resolves to (an address literal, in any form the system
    accepts such as `127.1` or `0x7f000001`, resolves to itself)."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


def is_public_host(host: str, *, resolve: Resolver | None = None) -> bool:
    """Whether every address `host` resolves to is public; False if it does not resolve."""
    try:
        addresses = (resolve or resolve_host)(host)
    except (OSError, UnicodeError, ValueError):
        return False
    if not addresses:
        return False
    for text in addresses:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 scope
        except ValueError:
            return False
        if not is_public_address(address):
            return False
    return True
