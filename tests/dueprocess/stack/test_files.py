"""Databases and keys are private (0600 in directories 0700), and the notify key lives
outside the data directory: an earlier version's DATA_DIR/notify.key is moved there and
used, never regenerated, and two different keys are an error naming both."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from dueprocess import contact_secrets
from dueprocess.errors import DueProcessError
from dueprocess.settings import NotifySettings
from dueprocess.stack.processes import private_log, secure_data_dir


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[NotifySettings]:
    monkeypatch.delenv("DUEPROCESS_NOTIFY_SECRET_KEY", raising=False)
    monkeypatch.delenv("DUEPROCESS_NOTIFY_KEY_FILE", raising=False)
    monkeypatch.setenv("DUEPROCESS_DATA_DIR", str(tmp_path / "data"))
    from dueprocess.settings import get_settings

    get_settings.cache_clear()
    contact_secrets._key_file.cache_clear()
    yield NotifySettings()
    get_settings.cache_clear()
    contact_secrets._key_file.cache_clear()


def test_a_new_notify_key_is_private_and_outside_the_data_directory(
        settings: NotifySettings, tmp_path: Path) -> None:
    token = contact_secrets.encrypt("json://127.0.0.1/x")
    key = tmp_path / "data-keys" / "notify.key"
    assert settings.notify_key_path == key.resolve()
    assert mode(key) == 0o600 and mode(key.parent) == 0o700
    assert not (tmp_path / "data" / "notify.key").exists()
    contact_secrets._key_file.cache_clear()
    assert contact_secrets.decrypt(token) == "json://127.0.0.1/x"


def test_an_earlier_versions_key_is_moved_not_regenerated(
        settings: NotifySettings, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    legacy = tmp_path / "data" / "notify.key"
    legacy.parent.mkdir(parents=True)
    old_key = Fernet.generate_key()
    legacy.write_bytes(old_key + b"\n")
    stored = Fernet(old_key).encrypt(b"json://127.0.0.1/subscriber").decode()
    with caplog.at_level(logging.WARNING, logger="dueprocess.contact_secrets"):
        assert contact_secrets.decrypt(stored) == "json://127.0.0.1/subscriber"
    assert "moved the notify key" in caplog.text and str(legacy) in caplog.text
    assert not legacy.exists()
    moved = tmp_path / "data-keys" / "notify.key"
    assert moved.read_bytes().strip() == old_key and mode(moved) == 0o600


def test_two_different_keys_are_an_error_naming_both(
        settings: NotifySettings, tmp_path: Path) -> None:
    legacy = tmp_path / "data" / "notify.key"
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(Fernet.generate_key())
    new = tmp_path / "data-keys" / "notify.key"
    new.parent.mkdir()
    new.write_bytes(Fernet.generate_key())
    with pytest.raises(DueProcessError, match="DUEPROCESS_NOTIFY_KEY_FILE: two different"):
        contact_secrets.encrypt("json://127.0.0.1/x")
    assert legacy.exists() and new.exists(), "neither key may be lost"


def test_the_case_database_file_is_created_private(tmp_path: Path) -> None:
    from sqlalchemy import text

    from dueprocess.db import _engine_for

    path = tmp_path / "fresh" / "cases.db"
    engine = _engine_for(f"sqlite:///{path}")
    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    engine.dispose()
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    for extra in path.parent.glob("cases.db-*"):
        assert mode(extra) == 0o600, extra


def test_an_earlier_data_directory_is_made_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "prefect").mkdir(parents=True)
    (data / "transparency").mkdir()
    for path in (data / "dueprocess.db", data / "prefect" / "prefect.db",
                 data / "transparency" / "head.json"):
        path.write_text("x")
        path.chmod(0o644)
    for directory in (data, data / "prefect"):
        directory.chmod(0o755)
    changed = secure_data_dir(data)
    assert {mode(data), mode(data / "prefect")} == {0o700}
    assert mode(data / "dueprocess.db") == mode(data / "prefect" / "prefect.db") == 0o600
    assert mode(data / "transparency" / "head.json") == 0o644, "published files stay public"
    assert len(changed) == 4 and secure_data_dir(data) == []
    with private_log(data / "logs" / "x.log") as log:
        log.write(b"line\n")
    assert mode(data / "logs" / "x.log") == 0o600 and mode(data / "logs") == 0o700
    assert os.access(data / "logs" / "x.log", os.R_OK)
