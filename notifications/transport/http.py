"""Keep-alive HTTP for Apprise's webhook plugins while a delivery run sends.

Apprise's `json://`, `form://` and `xml://` plugins call `requests.request(...)`, which
builds a new `requests.Session` for every message: a new TCP connection (and TLS handshake
for `jsons://`), and two scans of the whole process environment for proxy settings. Apprise
2.x offers no hook to pass a session, so `install()` replaces the `requests` name inside
those three plugin modules with a stand-in that behaves exactly like the module, except
that `request()` goes through a keep-alive session *when the calling thread is a delivery
thread* (`use_pooled_session`). Any other caller (the CLI, a test, another library using
Apprise in the same process) gets plain `requests.request`, as before.

Each delivery thread has its own session (a `requests.Session` is not meant to be shared
between threads), opened by the thread pool's initializer and closed when the run ends.
Plain `requests` scans the whole environment for proxy settings twice per request and
looks for a netrc file once. A delivery session does so only if the environment has proxy
or netrc settings; otherwise it reads the CA bundle variables once, with the same result.
"""

from __future__ import annotations

import os
import threading
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from types import ModuleType
from typing import Any

import requests
from apprise.plugins import custom_form, custom_json, custom_xml

# The plugins whose I/O is one `requests.request` per message.
PLUGIN_MODULES: tuple[ModuleType, ...] = (custom_json, custom_form, custom_xml)
# Environment settings requests would look up on every request (besides the CA bundle).
_PROXY_SETTINGS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "netrc")

_local = threading.local()


class _PooledRequests(ModuleType):
    """The `requests` module, with `request()` routed through the thread's session."""

    def __init__(self) -> None:
        super().__init__("requests")

    def __getattr__(self, name: str) -> Any:
        return getattr(requests, name)

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        session: requests.Session | None = getattr(_local, "session", None)
        if session is None:
            return requests.request(method, url, **kwargs)
        return session.request(method, url, **kwargs)


_STAND_IN = _PooledRequests()


def install() -> bool:
    """Route the webhook plugins' requests through `_STAND_IN`; False if Apprise changed
    (a plugin that no longer calls `requests` by that name)."""
    installed = True
    for module in PLUGIN_MODULES:
        current = getattr(module, "requests", None)
        if current is requests:
            module.requests = _STAND_IN  # type: ignore[attr-defined]
        elif current is not _STAND_IN:
            installed = False
    return installed


def environment_has_proxies() -> bool:
    """Whether requests must look up proxies or netrc credentials per request."""
    names = {name.lower() for name in os.environ}
    if names & set(_PROXY_SETTINGS):
        return True
    home = Path.home()
    return (home / ".netrc").exists() or (home / "_netrc").exists()


class DeliverySession(requests.Session):
    """A session that takes the environment's settings once, not on every request.

    With `scan_environment` false (no proxy or netrc settings exist), it behaves as
    `trust_env` does for what remains, the CA bundle of `REQUESTS_CA_BUNDLE` or
    `CURL_CA_BUNDLE`, read once; a plain `http://` request needs no bundle at all.
    """

    def __init__(self, *, scan_environment: bool) -> None:
        super().__init__()
        # Keep no cookies: one recipient's endpoint must never see another's (a session
        # per message, as before, kept none either).
        self.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self.trust_env = scan_environment
        self.ca_bundle = (os.environ.get("REQUESTS_CA_BUNDLE")
                          or os.environ.get("CURL_CA_BUNDLE") or None)

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any,
                                   cert: Any) -> dict[str, Any]:
        if not self.trust_env and (verify is True or verify is None) \
                and str(url).lower().startswith("https:"):
            verify = self.ca_bundle or verify
        return super().merge_environment_settings(url, proxies, stream, verify, cert)


class SessionPool:
    """One keep-alive session per delivery thread, all closed by `close()`."""

    def __init__(self) -> None:
        self.scan_environment = environment_has_proxies()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        install()

    def open_for_thread(self) -> None:
        """Thread pool initializer: give the calling thread its session."""
        session = DeliverySession(scan_environment=self.scan_environment)
        with self._lock:
            self._sessions.append(session)
        _local.session = session

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()


def thread_session() -> requests.Session | None:
    """The calling thread's delivery session, if it has one (for tests)."""
    return getattr(_local, "session", None)
