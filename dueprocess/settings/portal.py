"""The public portal's process and the limits of what it accepts."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class PortalSettings(BaseSettings):
    """The public portal (`dueprocess portal`): where it listens, which hosts and proxies
    it trusts, and the limits of what it accepts (comment length, request size, rate)."""

    model_config = SettingsConfigDict(env_prefix="DUEPROCESS_", env_file=".env", extra="ignore")

    portal_host: str = Field(default="127.0.0.1", description="Address `dueprocess portal` binds")
    portal_port: int = Field(
        default=8000, ge=1, le=65535, description="Port `dueprocess portal` listens on"
    )
    comment_max_chars: int = Field(default=5000, ge=1, description="Longest comment accepted")
    portal_max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Largest request body (any POST)"
    )
    comment_rate_count: int = Field(
        default=5, ge=1, description="Comments and subscriptions per client per window"
    )
    comment_rate_seconds: float = Field(
        default=60.0, gt=0, description="That window, in seconds"
    )
    portal_trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks of the reverse proxies in front of "
        "the portal (e.g. 127.0.0.1,10.0.0.0/8). Only a request whose direct peer is one of "
        "them is attributed to the client its X-Forwarded-For names; default: none, so the "
        "header is ignored and every client is its direct peer",
    )

    portal_allowed_hosts: str = Field(
        default="",
        description="Comma-separated host names the portal answers to (e.g. "
        "portal.example.gov.cn); requests naming another Host get 400, so a DNS-rebinding "
        "page cannot reach a portal on loopback. Loopback names and the address the portal "
        "binds are always allowed",
    )

    @property
    def allowed_hosts(self) -> list[str]:
        named = [h.strip() for h in self.portal_allowed_hosts.split(",") if h.strip()]
        bound = [] if self.portal_host in ("0.0.0.0", "::") else [self.portal_host]
        return ["localhost", "127.0.0.1", *bound, *named]

    @field_validator("portal_trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)
        return value

    @property
    def trusted_proxy_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.portal_trusted_proxies)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str) -> tuple[Network, ...]:
    """'10.0.0.1, 192.168.0.0/16' as networks; a bad entry is named."""
    networks = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(
                f"'{entry}' is not an IP address or network (e.g. 10.0.0.1 or 10.0.0.0/8)"
            ) from None
    return tuple(networks)


@lru_cache(maxsize=1)
def get_portal_settings() -> PortalSettings:
    return PortalSettings()
