"""Subscriber URLs are secrets: Fernet-encrypted at rest, identified by a keyed digest.

The key comes from DUEPROCESS_NOTIFY_SECRET_KEY, or from a key file created once with mode
0600 outside the data directory (DUEPROCESS_NOTIFY_KEY_FILE, default DATA_DIR-keys/notify.key,
beside the signing key): a copy of the database alone does not reveal the URLs. The digest
(HMAC-SHA256 under a key derived from it) lets the same URL be recognised without storing
or logging it in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from dueprocess.errors import DueProcessError
from dueprocess.settings import NotifySettings, get_notify_settings

logger = logging.getLogger(__name__)


def _key(settings: NotifySettings | None = None) -> bytes:
    """The Fernet key of `settings` (default: the current environment's). A caller doing
    thousands of operations passes its settings: reading them scans the environment."""
    settings = settings or get_notify_settings()
    if settings.notify_secret_key is not None:
        return _checked(settings.notify_secret_key.get_secret_value().encode())
    return _key_file(str(settings.notify_key_path), str(settings.legacy_notify_key_path))


@lru_cache(maxsize=8)
def _key_file(key_path: str, legacy_path: str) -> bytes:
    """The key in `key_path`, created once (mode 0600, directory 0700) if missing; a key
    an earlier version left beside the database (`legacy_path`) is moved there first,
    never replaced by a new one: the stored subscriber URLs can only be read with it."""
    path, legacy = Path(key_path), Path(legacy_path)
    if legacy.exists() and legacy != path:
        _move_legacy_key(legacy, path)
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first
        else:
            with os.fdopen(fd, "wb") as file:
                file.write(Fernet.generate_key())
    return _checked(path.read_bytes().strip())


def _move_legacy_key(legacy: Path, path: Path) -> None:
    key = legacy.read_bytes()
    if path.exists():
        if path.read_bytes().strip() != key.strip():
            raise DueProcessError(
                f"DUEPROCESS_NOTIFY_KEY_FILE: two different notify keys, {path} and {legacy} "
                "(beside the database, from an earlier version); stored subscriber URLs are "
                "encrypted under one of them: keep that one at DUEPROCESS_NOTIFY_KEY_FILE and "
                "remove the other")
    else:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _move_legacy_key(legacy, path)  # another process moved it meanwhile
        with os.fdopen(fd, "wb") as file:
            file.write(key)
            file.flush()
            os.fsync(file.fileno())
    legacy.unlink(missing_ok=True)
    logger.warning("moved the notify key %s to %s: a key is kept apart from the database it "
                   "protects (DUEPROCESS_NOTIFY_KEY_FILE)", legacy, path)
    return None


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
