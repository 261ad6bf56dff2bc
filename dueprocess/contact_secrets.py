"""Subscriber URLs are secrets: Fernet-encrypted at rest, identified by a keyed digest.

The key comes from DUEPROCESS_NOTIFY_SECRET_KEY, or from a key file created once in the
data directory with mode 0600. The digest (HMAC-SHA256 under a key derived from it) lets
the same URL be recognised without storing or logging it in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from dueprocess.errors import DueProcessError
from dueprocess.settings import NotifySettings, get_notify_settings


def _key(settings: NotifySettings | None = None) -> bytes:
    """The Fernet key of `settings` (default: the current environment's). A caller doing
    thousands of operations passes its settings: reading them scans the environment."""
    settings = settings or get_notify_settings()
    if settings.notify_secret_key is not None:
        return _checked(settings.notify_secret_key.get_secret_value().encode())
    return _key_file(str(settings.data_dir))


@lru_cache(maxsize=8)
def _key_file(data_dir: str) -> bytes:
    """The key in `data_dir`/notify.key, created once (mode 0600) if missing."""
    path = Path(data_dir) / "notify.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first
        else:
            with os.fdopen(fd, "wb") as file:
                file.write(Fernet.generate_key())
    return _checked(path.read_bytes().strip())


def _checked(key: bytes) -> bytes:
    try:
        Fernet(key)
    except ValueError:
        raise DueProcessError(
            "DUEPROCESS_NOTIFY_SECRET_KEY: not a Fernet key (32 url-safe base64 bytes)"
        ) from None
    return key


@lru_cache(maxsize=8)
def _fernet(key: bytes) -> Fernet:
    return Fernet(key)


def encrypt(text: str) -> str:
    return _fernet(_key()).encrypt(text.encode()).decode()


def decrypt(token: str, *, settings: NotifySettings | None = None) -> str:
    try:
        return _fernet(_key(settings)).decrypt(token.encode()).decode()
    except InvalidToken:
        raise DueProcessError(
            "a stored subscriber URL cannot be decrypted with the current "
            "DUEPROCESS_NOTIFY_SECRET_KEY"
        ) from None


def keyed_digest(purpose: str, text: str, *, settings: NotifySettings | None = None) -> str:
    """HMAC-SHA256 of `text` under a key derived for `purpose` (hex)."""
    return hmac.new(_derived(_key(settings), purpose), text.encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=32)
def _derived(key: bytes, purpose: str) -> bytes:
    return hmac.new(key, purpose.encode(), hashlib.sha256).digest()


def url_key(url: str) -> str:
    """The recipient key of an Apprise URL: the same URL always gives the same key."""
    return "url-" + keyed_digest("apprise-url", url)[:64]


def token_matches(token: str, sha256_hex: str | None) -> bool:
    if sha256_hex is None:
        return False
    return hmac.compare_digest(hashlib.sha256(token.encode()).hexdigest(), sha256_hex)


def unsubscribe_token(subscriber_id: int, *, settings: NotifySettings | None = None) -> str:
    """The token of a subscriber's unsubscribe link: derived, never stored."""
    return keyed_digest("unsubscribe", str(subscriber_id), settings=settings)[:32]
