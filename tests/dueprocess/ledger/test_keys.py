"""Key storage (issue 11, item 6): the log's signing key is kept apart from the database.
A key inside the data directory, or readable by group or others, is refused, unless a
test or demo says DUEPROCESS_ALLOW_EXPOSED_SIGNING_KEY."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError
from dueprocess.journal import CaseEvent, publish
from dueprocess.ledger import get_transparency_settings, publish_tree_head
from dueprocess.settings import get_settings
from models.base import utcnow
from tests.dueprocess.ledger.test_support import fresh_database


@pytest.fixture
def grown_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh database and data directory (so no key yet) whose log has one leaf and no
    head yet."""
    monkeypatch.setenv("DUEPROCESS_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    with fresh_database(tmp_path):
        with session_scope() as session:
            publish(session, CaseEvent(case_id="dp-2026-keys", kind="notice.published",
                                       occurred_at=utcnow()))
        yield
    monkeypatch.undo()
    get_settings.cache_clear()


def write_key(path: Path, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    path.chmod(mode)


def test_the_default_key_is_outside_the_data_directory_and_private(grown_log: None) -> None:
    assert publish_tree_head(announce=lambda _: None) is not None
    path = get_transparency_settings().signing_key_path
    assert not path.is_relative_to(get_settings().data_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_key_inside_the_data_directory_is_refused(
    grown_log: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = get_settings().data_dir / "keys" / "log.pem"
    write_key(inside, 0o600)
    monkeypatch.setenv("DUEPROCESS_LOG_SIGNING_KEY", str(inside))
    with pytest.raises(DueProcessError, match=r"DUEPROCESS_LOG_SIGNING_KEY: refusing the "
                                              r"signing key: .* is inside the data directory"):
        publish_tree_head(announce=lambda _: None)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_key_others_can_read_is_refused(
    grown_log: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mode: int
) -> None:
    exposed = tmp_path / "elsewhere" / "log.pem"
    write_key(exposed, mode)
    monkeypatch.setenv("DUEPROCESS_LOG_SIGNING_KEY", str(exposed))
    with pytest.raises(DueProcessError, match=rf"can be read by group or others .*chmod 600 "
                                              rf"{exposed}"):
        publish_tree_head(announce=lambda _: None)


def test_a_test_or_demo_may_opt_out_explicitly(
    grown_log: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = get_settings().data_dir / "keys" / "log.pem"
    write_key(inside, 0o644)
    monkeypatch.setenv("DUEPROCESS_LOG_SIGNING_KEY", str(inside))
    monkeypatch.setenv("DUEPROCESS_ALLOW_EXPOSED_SIGNING_KEY", "true")
    assert publish_tree_head(announce=lambda _: None) is not None


def test_a_key_left_where_older_versions_kept_it_is_not_silently_replaced(
    grown_log: None,
) -> None:
    legacy = get_transparency_settings().legacy_signing_key_path
    write_key(legacy, 0o600)
    with pytest.raises(DueProcessError, match=r"the log's key is at .*inside the data "
                                              r"directory; move it to"):
        publish_tree_head(announce=lambda _: None)
    assert not get_transparency_settings().signing_key_path.exists()
