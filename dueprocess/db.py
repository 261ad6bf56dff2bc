"""The case database: engine, schema migrations and transactions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from dueprocess.settings import get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "models" / "migrations"


class DatabaseUnavailable(RuntimeError):
    """The configured case database cannot be reached; the message names the setting."""


def create_db_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})
        _serialize_sqlite_writers(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _serialize_sqlite_writers(engine: Engine) -> None:
    # SQLite upgrades a read lock to a write lock lazily and then fails with "database is
    # locked"; taking the write lock at BEGIN makes concurrent processes wait instead.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@lru_cache(maxsize=4)
def _engine_for(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        _private_sqlite_file(Path(url.removeprefix("sqlite:///").split("?", 1)[0]))
    return create_db_engine(url)


def _private_sqlite_file(path: Path) -> None:
    """Create the database file 0600 in a directory 0700 before SQLite does (0644 under
    the usual umask): it holds people's names and evidence. Its -wal and -shm files take
    the database file's mode."""
    if not path.name or path.name == ":memory:":
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Never open an existing database file: closing any descriptor of it drops every POSIX
    # lock this process's SQLite connections hold on it, and another process may then
    # take itself for the last one and delete the -wal and -shm files under them (their
    # commits then went to a WAL nobody else reads: lost writes, "disk I/O error").
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def get_engine() -> Engine:
    return _engine_for(get_settings().resolved_database_url)


def migrate(engine: Engine | None = None) -> None:
    """Bring the schema to the latest migration of every feature branch (idempotent)."""
    from alembic import command  # deferred: read commands never migrate; alembic costs them ~0.1 s
    from alembic.config import Config

    engine = engine or get_engine()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")  # one branch per feature
    except OperationalError as exc:
        raise DatabaseUnavailable(
            f"DUEPROCESS_DATABASE_URL: cannot reach the case database "
            f"({engine.url.render_as_string(hide_password=True)}): {exc.orig}"
        ) from None


@contextmanager
def session_scope(*, snapshot: bool = False) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on any error.

    With *snapshot*, every statement reads the same snapshot: PostgreSQL's default READ
    COMMITTED would let a reader of the whole log see leaves appended after it read the
    head (SQLite's BEGIN IMMEDIATE already holds writers off)."""
    with Session(get_engine(), expire_on_commit=False) as session:
        if snapshot and session.get_bind().dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
